/**
 * One engine, two repositories (adapter `repos`): `alpha` on the local forge, `beta` on the fake GitHub.
 * The same roadmap ids in both become `alpha/T0-101` and `beta/T0-101`; each task merges into its own
 * repository's main, passes its own repository's scope policy (a path sensitive only in beta waits for a
 * human there and merges in alpha), is provisioned only under its repository's folder, and one killswitch
 * holds the tasks of both. The real engine, real git repositories, the scripted agent.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitHubForge } from '../../actors/forges/github/github-forge.js';
import { makeOctokit } from '../../actors/forges/github/client.js';
import { systemClock } from '../../src/clock.js';
import { loadAdapter } from '../../src/config/load.js';
import { createSampleProject } from '../../src/demo/sample-project.js';
import { startEngine } from '../../src/runtime/engine.js';
import { openDb } from '../../src/store/db.js';
import { attachFakeGitHub, OWNER, REPO, TOKEN } from '../helpers/github-remote.js';
import { gitSync } from '../helpers/git-repo.js';
import { waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

type Row = { id: string; repo: string; status: string; reason: string | null; branch: string | null; worktree: string | null };

async function twoRepos() {
  const parent = mkdtempSync(join(tmpdir(), 'oxi-multi-'));
  cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
  const alpha = join(parent, 'alpha');
  const beta = join(parent, 'beta');
  const { ids } = createSampleProject({ dir: alpha, tasks: 3 });
  createSampleProject({ dir: beta, tasks: 3 });
  // One script for both repositories, by roadmap id: T0-101 also writes docs/notes.md; T2-103 works slowly (it is live at the kill).
  const script = JSON.parse(readFileSync(join(alpha, '.oxi-script.json'), 'utf8'));
  const [first, , third] = ids;
  script.tasks[first].files['docs/notes.md'] = 'notes\n';
  script.tasks[third] = { ...script.tasks[third], behaviour: 'slow', delayMs: 600_000 };
  writeFileSync(join(parent, 'script.json'), JSON.stringify(script));
  const config = {
    name: 'acme',
    repos: [
      { name: 'alpha', path: 'alpha', forge: { kind: 'local' } },
      { name: 'beta', path: 'beta', forge: { kind: 'github', owner: OWNER, name: REPO, apiUrl: 'http://127.0.0.1:9' }, scope: { sensitive: ['docs/'] } },
    ],
    // Nothing is sensitive by default: only beta's own policy names docs/.
    policy: { scope: { sensitive: [] } },
    hosts: [{ name: 'local', kind: 'local', maxWorkers: 4 }],
    planTier: { maxWorkers: 4 },
    checks: { command: ['node', '--test'], timeoutMs: 120_000 },
    agents: { scripted: { script: 'script.json' } },
    engine: { prWatchIntervalMs: 150, seedIntervalMs: 300, reaperIntervalMs: 1000, backoffBaseMs: 200, backoffMaxMs: 1000 },
  };
  const configPath = join(parent, 'oxi.config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const adapter = await loadAdapter({ configPath });
  const gh = await attachFakeGitHub(beta, parent);
  cleanups.push(() => gh.stop());
  const client = makeOctokit({ token: TOKEN, baseUrl: gh.url, pacing: false, retryBaseMs: 20 });
  const betaForge = new GitHubForge({
    client, owner: OWNER, repo: REPO, mainClone: beta, mainBranch: 'main', remote: 'origin', branchPrefix: 'oxi/',
    clock: systemClock, pollMs: 50, checksTimeoutMs: 60_000,
  });
  const db = openDb(adapter.paths.db);
  cleanups.push(() => db.close());
  const engine = startEngine({ adapter, db, clock: systemClock, forges: new Map([['beta', betaForge]]), notifier: { notify: async () => {} } });
  cleanups.push(() => engine.stop());
  const rows = () => db.prepare('SELECT id, repo, status, reason, branch, worktree FROM tasks ORDER BY id').all() as Row[];
  const row = (id: string) => rows().find((r) => r.id === id);
  const events = (kind: string) => db.prepare('SELECT task, payload FROM event WHERE kind = ? ORDER BY id').all(kind) as Array<{ task: string | null; payload: string }>;
  // On a timeout, what the engine did (the test's failure message alone says only what it waited for).
  const dump = () => JSON.stringify({ rows: rows(), last: db.prepare('SELECT task, kind, substr(payload, 1, 300) AS payload FROM event ORDER BY id DESC LIMIT 40').all() });
  const until = async <T,>(what: string, fn: () => T | undefined | false, ms: number): Promise<T> => {
    try {
      return await waitFor(what, fn, ms);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${dump()}`);
    }
  };
  return { parent, alpha, beta, ids, adapter, gh, db, engine, rows, row, events, until };
}

describe('one engine, two repositories', () => {
  it('merges each repository\'s tasks into its own main under its own scope policy, and one kill holds both', { timeout: 300_000 }, async () => {
    const t = await twoRepos();
    const [first, second, third] = t.ids;

    // Same roadmap ids, one task per repository each.
    await t.until('both roadmaps ingested', () => t.rows().length === 6, 60_000);
    expect(t.rows().map((r) => [r.id, r.repo])).toEqual([
      ...t.ids.map((id) => [`alpha/${id}`, 'alpha']),
      ...t.ids.map((id) => [`beta/${id}`, 'beta']),
    ]);

    // docs/ is sensitive only in beta: there the change waits for a human; in alpha it merges.
    const held = await t.until('beta\'s docs change waiting for a human', () => (t.row(`beta/${first}`)?.status === 'awaiting_human' ? t.row(`beta/${first}`) : undefined), 200_000);
    for (const id of [`alpha/${first}`, `alpha/${second}`, `beta/${second}`]) await t.until(`${id} merged`, () => t.row(id)?.status === 'merged', 200_000);
    const verdict = t.events('critic.approve').find((e) => e.task === `beta/${first}`);
    expect(JSON.parse(verdict!.payload)).toMatchObject({ needsHuman: true });
    expect(held!.reason ?? '').not.toMatch(/protected/);
    expect(t.events('auto_merge.merged').map((e) => e.task).sort()).toEqual([`alpha/${first}`, `alpha/${second}`, `beta/${second}`].sort());

    // Each merge landed on its own repository's main: alpha's locally, beta's on its GitHub.
    expect(gitSync(t.alpha, ['show', 'refs/heads/main:docs/notes.md'])).toBe('notes');
    expect(gitSync(t.alpha, ['ls-tree', '-r', '--name-only', 'refs/heads/main'])).toContain('src/square.js');
    const betaMain = t.gh.git(['ls-tree', '-r', '--name-only', 'main']);
    expect(betaMain).toContain('src/square.js');
    expect(betaMain).not.toContain('docs/notes.md');
    expect(betaMain).not.toContain('src/double.js');

    // Branches carry the roadmap id (per repository); no workspace lies under the other repository's folder.
    for (const r of t.rows().filter((x) => x.worktree !== null)) {
      expect(r.branch).toBe(`oxi/${r.id.split('/')[1].toLowerCase()}`);
      expect(r.worktree!.startsWith(join(t.adapter.paths.worktreesRoot, 'acme-default', r.repo) + sep)).toBe(true);
    }
    const provisioned = t.rows().filter((r) => r.worktree !== null).map((r) => r.repo);
    expect(new Set(provisioned)).toEqual(new Set(['alpha', 'beta']));
    // beta's PRs are on its GitHub, alpha's in the local forge: none crossed over.
    expect([...t.gh.pulls.values()].map((p) => p.head).sort()).toEqual([`oxi/${first.toLowerCase()}`, `oxi/${second.toLowerCase()}`, ...([...t.gh.pulls.values()].some((p) => p.head === `oxi/${third.toLowerCase()}`) ? [`oxi/${third.toLowerCase()}`] : [])].sort());

    // One killswitch: the slow tasks of both repositories are held. (A loaded machine's host may take one worker at a
    // time: the other slow task then waits for its slot, live all the same.)
    const slow = [`alpha/${third}`, `beta/${third}`];
    const live = (id: string) => ['waiting', 'provisioning', 'working'].includes(t.row(id)?.status ?? '');
    await t.until('both slow tasks live, one working', () => slow.every(live) && slow.some((id) => t.row(id)?.status === 'working'), 200_000);
    t.engine.send('engineState', { type: 'engine.kill', reason: 'test', by: 'test' });
    await t.until('both slow tasks held', () => slow.every((id) => t.row(id)?.status === 'held'), 60_000);
  });
});
