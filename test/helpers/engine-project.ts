import { GitHubForge } from '../../actors/forges/github/github-forge.js';
import { makeOctokit } from '../../actors/forges/github/client.js';
import { systemClock } from '../../src/clock.js';
import { loadAdapter } from '../../src/config/load.js';
import { runDaemon } from '../../src/runtime/daemon.js';
import type { EngineHandle } from '../../src/runtime/engine.js';
import { openDb } from '../../src/store/db.js';
import { GithubIssuesSource } from '../../actors/roadmap/github-issues.js';
import type { FakeGitHub, FakeGitHubOptions } from './fake-github.js';
import { attachFakeGitHub, OWNER, REPO, TOKEN } from './github-remote.js';
import { sampleProject } from './project.js';

export type TaskRow = { id: string; status: string; reason: string | null; pr: number | null; last_deferred_at: number | null };
export type EventRow = { id: number; task: string | null; kind: string; payload: string };

/**
 * A sample project run by an in-process engine until every task is merged or abandoned, on the local
 * forge or on the fake GitHub (octokit pointed at it with baseUrl). Cleanups are pushed onto `cleanups`.
 */
export async function engineProject(options: {
  tasks: number;
  forge: 'local' | 'github';
  cleanups: Array<() => unknown>;
  script?: NonNullable<Parameters<typeof sampleProject>[0]>['script'];
  maxWorkers?: number;
  /** Tasks come from the fake GitHub's issues (roadmap source `github-issues`, this config) instead of ROADMAP.md. */
  issues?: Record<string, unknown>;
  /** More adapter changes, after the defaults above. */
  config?: (c: Record<string, any>) => void;
  github?: Partial<FakeGitHubOptions>;
}) {
  const { cleanups } = options;
  const p = sampleProject({
    tasks: options.tasks,
    script: options.script ?? (() => {}),
    config: (c) => {
      if (options.forge === 'github') c.repo.forge = { kind: 'github', owner: OWNER, name: REPO, apiUrl: 'http://127.0.0.1:9' };
      c.hosts[0].maxWorkers = options.maxWorkers ?? 2;
      c.planTier = { maxWorkers: options.maxWorkers ?? 2 };
      c.engine = { ...c.engine, prWatchIntervalMs: 150, seedIntervalMs: 300, reaperIntervalMs: 1000, backoffBaseMs: 200, backoffMaxMs: 1000 };
      if (options.issues) c.roadmap = { source: 'github-issues', ...options.issues };
      options.config?.(c);
    },
  });
  cleanups.push(p.cleanup);
  const adapter = await loadAdapter({ configPath: p.configPath });
  let gh: FakeGitHub | undefined;
  let forge: GitHubForge | undefined;
  let roadmap: GithubIssuesSource | undefined;
  if (options.forge === 'github') {
    gh = await attachFakeGitHub(p.dir, `${p.dir}/..`, options.github);
    cleanups.push(() => gh!.stop());
    // Pacing off: the fake needs no spacing between writes, and the test should not wait for it.
    const client = makeOctokit({ token: TOKEN, baseUrl: gh.url, pacing: false, retryBaseMs: 20 });
    forge = new GitHubForge({
      client, owner: OWNER, repo: REPO, mainClone: p.dir, mainBranch: 'main', remote: 'origin', branchPrefix: adapter.branches.prefix,
      clock: systemClock, pollMs: 50, checksTimeoutMs: 60_000,
    });
    if (adapter.roadmapSource.source === 'github-issues') roadmap = new GithubIssuesSource({ client, owner: OWNER, repo: REPO, config: adapter.roadmapSource });
  }
  const db = openDb(adapter.paths.db);
  cleanups.push(() => db.close());
  let engine: EngineHandle | undefined;
  let stopped = false;
  // A failed test must not leave the engine running against a closed database.
  cleanups.push(async () => {
    if (!stopped) await engine?.stop();
  });
  const run = async () => {
    const exit = await runDaemon({ adapter, db, ...(forge ? { forge } : {}), ...(roadmap ? { roadmap } : {}), until: 'settled', signals: false, log: () => {}, onStarted: (e) => (engine = e) });
    stopped = true;
    return exit;
  };
  const tasks = () => db.prepare('SELECT id, status, reason, pr, last_deferred_at FROM tasks ORDER BY id').all() as TaskRow[];
  const events = (kind: string) => db.prepare('SELECT id, task, kind, payload FROM event WHERE kind = ? ORDER BY id').all(kind) as EventRow[];
  return { p, gh, adapter, db, forge, roadmap, run, tasks, events };
}
