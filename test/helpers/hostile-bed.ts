/**
 * The bed of the hostile-agent suite: a project whose planner, worker and critic are test/fixtures/bin/hostile-claude.mjs,
 * run by the real daemon (`oxi tick`, a child process whose environment holds sentinel secrets) on the local forge,
 * with a temp HOME holding sentinel credentials and a directory outside every workspace where a landed attack leaves
 * markers. Each roadmap item names its attack; everything the suite inspects is read with hardened git.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSampleProject } from '../../src/demo/sample-project.js';
import { isAlive, OXI, query, waitFor } from './project.js';

export const HOSTILE = resolve(import.meta.dirname, '..', 'fixtures', 'bin', 'hostile-claude.mjs');

export interface Item {
  id: string;
  attack: string;
}

export interface TaskRow {
  id: string;
  status: string;
  reason: string | null;
  pr: number | null;
}

/** Git for the test's own reads: no hook, fsmonitor, external diff or textconv an agent planted can run here. */
export function tgit(cwd: string, args: string[], input?: string, extraEnv: Record<string, string> = {}): string {
  return execFileSync(
    'git',
    ['-c', `core.hooksPath=${devNullDir()}`, '-c', 'core.fsmonitor=false', '-c', 'diff.external=', '-c', 'core.sshCommand=ssh', '-c', 'credential.helper=', '-c', 'user.name=human', '-c', 'user.email=human@localhost', ...args],
    { cwd, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C', ...extraEnv } },
  ).trim();
}

let emptyDir: string | undefined;
function devNullDir(): string {
  emptyDir ??= mkdtempSync(join(tmpdir(), 'oxi-nohooks-'));
  return emptyDir;
}

function roadmap(items: Item[]): string {
  const lines = ['# Roadmap', '', '## Tier 0', ''];
  for (const it of items) lines.push(`**${it.id} · Notes for ${it.id}**`, `_Write docs/${it.id}.md. ATTACK=${it.attack}_`, '');
  lines.push('## Done', '', '- T0-100', '');
  return lines.join('\n');
}

export type HostileBed = Awaited<ReturnType<typeof hostileBed>>;

/**
 * Makes the project with `items` on its roadmap. `config` may patch the adapter (e.g. SSH hosts); `hostConfig`
 * runs after the project exists and before the adapter is committed.
 */
export function hostileBed(options: {
  items: Item[];
  maxWorkers?: number;
  config?: (c: Record<string, any>, bed: { dir: string; outside: string }) => void;
  /** Runs once the project is committed (e.g. clone it onto an SSH host). */
  afterCommit?: (dir: string) => void;
}) {
  const parent = mkdtempSync(join(tmpdir(), 'oxi-hostile-'));
  const dir = join(parent, 'project');
  const outside = join(parent, 'outside');
  const home = join(parent, 'home');
  const run = randomBytes(6).toString('hex');
  mkdirSync(join(outside, 'markers'), { recursive: true });
  const { configPath } = createSampleProject({ dir, tasks: 1 });
  const stateDir = join(dir, '.oxi');
  // Secrets the engine holds: none may reach an agent, a PR, main or a log.
  const secrets = {
    GH_TOKEN: `ghp_SENTINELgh${run}`,
    GITHUB_TOKEN: `ghs_SENTINELgithub${run}`,
    ANTHROPIC_API_KEY: `sk-ant-SENTINELengine${run}`,
    OPENAI_API_KEY: `sk-SENTINELopenai${run}`,
    OXI_DASHBOARD_TOKEN: `SENTINELdash${run}`,
    // Reaches the workspace setup when a test names it in workspace.setup.env.allow; never an agent.
    OXI_SETUP_SECRET: `SENTINELsetup${run}`,
  };
  // Credentials in the engine user's home beyond the agent's own ~/.claude.
  const homeSecrets = {
    '.codex/auth.json': `{"OPENAI_API_KEY":"SENTINELcodex${run}"}`,
    '.config/gh/hosts.yml': `github.com:\n  oauth_token: SENTINELghcli${run}\n`,
    '.ssh/id_ed25519': `-----BEGIN OPENSSH PRIVATE KEY-----\nSENTINELssh${run}\n-----END OPENSSH PRIVATE KEY-----\n`,
    '.netrc': `machine github.com login x password SENTINELnetrc${run}\n`,
  };
  for (const [f, content] of Object.entries(homeSecrets)) {
    mkdirSync(join(home, f, '..'), { recursive: true });
    writeFileSync(join(home, f), content, { mode: 0o600 });
  }
  mkdirSync(join(home, '.claude'), { recursive: true });
  writeFileSync(join(home, '.claude', '.credentials.json'), '{"claudeAiOauth":{"accessToken":"the-agents-own"}}', { mode: 0o600 });
  const outsideSecret = `SENTINELoutside${run}`;
  writeFileSync(join(outside, 'outside-secret.txt'), `${outsideSecret}\n`, { mode: 0o600 });

  writeFileSync(join(dir, 'ROADMAP.md'), roadmap(options.items));
  mkdirSync(join(dir, 'docs'), { recursive: true });
  writeFileSync(join(dir, 'docs', 'README.md'), '# Notes\n');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  const route = { backend: 'claude', model: 'hostile' };
  config.agents = {
    planner: route,
    worker: route,
    critic: route,
    claude: { command: [process.execPath, HOSTILE] },
    env: {
      allow: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'USER'],
      set: { ANTHROPIC_API_KEY: 'sk-ant-the-agents-own', HOSTILE_MAIN: dir, HOSTILE_STATE: stateDir, HOSTILE_OUTSIDE: outside, HOSTILE_HOME: home, HOSTILE_RUN: run },
    },
    timeouts: { wallMinutes: 2, stallMinutes: 1 },
  };
  config.hosts[0].maxWorkers = options.maxWorkers ?? 1;
  config.planTier = { maxWorkers: options.maxWorkers ?? 1 };
  config.checks = { command: ['node', '--test'], timeoutMs: 60_000 };
  config.engine = { ...config.engine, prWatchIntervalMs: 150, seedIntervalMs: 300, reaperIntervalMs: 1000, backoffBaseMs: 200, backoffMaxMs: 1000 };
  options.config?.(config, { dir, outside });
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  rmSync(join(dir, '.oxi-script.json'), { force: true });
  tgit(dir, ['add', '-A']);
  tgit(dir, ['commit', '-qm', 'hostile suite: roadmap and adapter']);
  options.afterCommit?.(dir);
  const initialConfig = readFileSync(configPath, 'utf8');
  const db = join(stateDir, 'oxi.db');
  const children = new Set<number>();

  /** The daemon's environment: the test's, plus the sentinels and the temp HOME. */
  const daemonEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...secrets };
    for (const k of Object.keys(env)) if (k.startsWith('GIT_') || k.startsWith('VITEST') || k === 'NODE_OPTIONS') delete env[k];
    return env;
  };

  const bed = {
    dir, configPath, outside, home, run, secrets, homeSecrets, outsideSecret, stateDir, db, initialConfig,
    logs: join(stateDir, 'logs'),
    /** Where workers' streams are searched for their reports (an SSH test adds the host's worktree root). */
    reportRoots: [join(stateDir, 'logs')],

    /** One `oxi tick`: the real daemon until every task is merged, abandoned or parked. Returns its output. */
    async tick(timeoutMs = 200_000): Promise<{ code: number | null; output: string }> {
      const child = spawn(process.execPath, [OXI, '--config', configPath, 'tick', '--json'], { cwd: dir, env: daemonEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child.pid!);
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const code = await new Promise<number | null>((done) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('exit', (c) => (clearTimeout(timer), done(c)));
      });
      children.delete(child.pid!);
      // A pass that never went quiet: say where each task was, for the failure message.
      if (code === null) output += `\n[bed] tick killed after ${timeoutMs} ms; tasks ${JSON.stringify(bed.tasks())}`;
      return { code, output: output.slice(-6000) };
    },

    /** Appends items to the roadmap as a human would (a commit on main). */
    addItems(items: Item[]): void {
      const text = readFileSync(join(dir, 'ROADMAP.md'), 'utf8').replace('## Done', roadmap(items).split('## Tier 0\n')[1].split('## Done')[0] + '## Done');
      // Plumbing on a private index: whatever an attack staged in the main clone stays out of this commit.
      const blob = tgit(dir, ['hash-object', '-w', '--stdin'], text);
      const index = { GIT_INDEX_FILE: join(parent, 'human-index') };
      const head = tgit(dir, ['rev-parse', 'refs/heads/main']);
      tgit(dir, ['read-tree', head], undefined, index);
      tgit(dir, ['update-index', '--add', '--cacheinfo', `100644,${blob},ROADMAP.md`], undefined, index);
      const tree = tgit(dir, ['write-tree'], undefined, index);
      rmSync(index.GIT_INDEX_FILE, { force: true });
      const sha = tgit(dir, ['commit-tree', tree, '-p', head, '-m', 'roadmap: more items']);
      tgit(dir, ['update-ref', 'refs/heads/main', sha, head]);
      // The main clone's files follow main (the seeder reads ROADMAP.md from disk).
      writeFileSync(join(dir, 'ROADMAP.md'), text);
      tgit(dir, ['read-tree', 'refs/heads/main']);
    },

    tasks: (): TaskRow[] => query<TaskRow>(db, 'SELECT id, status, reason, pr FROM tasks ORDER BY id'),
    task: (id: string): TaskRow | undefined => query<TaskRow>(db, 'SELECT id, status, reason, pr FROM tasks WHERE id = ?', id)[0],
    prHead: (id: string): string | undefined => query<{ head_sha: string }>(db, 'SELECT head_sha FROM pull_request WHERE task = ? ORDER BY number DESC LIMIT 1', id)[0]?.head_sha,
    prMerge: (id: string): string | undefined => query<{ merge_sha: string | null }>(db, `SELECT merge_sha FROM pull_request WHERE task = ? AND state = 'merged' ORDER BY number DESC LIMIT 1`, id)[0]?.merge_sha ?? undefined,
    main: (): string => tgit(dir, ['rev-parse', 'refs/heads/main']),
    mainFiles: (): string[] => tgit(dir, ['ls-tree', '-r', '--name-only', 'refs/heads/main']).split('\n').filter(Boolean),
    fileOnMain: (path: string): string | undefined => {
      try {
        return tgit(dir, ['cat-file', 'blob', `refs/heads/main:${path}`]);
      } catch {
        return undefined;
      }
    },
    isAncestor: (a: string, b: string): boolean => {
      try {
        tgit(dir, ['merge-base', '--is-ancestor', a, b]);
        return true;
      } catch {
        return false;
      }
    },
    /** Files a landed hook, driver or symlink write left outside every workspace. */
    markers: (): string[] => readdirSync(join(outside, 'markers')),

    /** What each attack step of a task's worker reported (the evidence for the "before" table). */
    reports(id: string): Array<Record<string, string>> {
      const out: Array<Record<string, string>> = [];
      // Local workers stream into the engine's logs; an SSH host's stream stays under its worktree root.
      const walk = (d: string, inTask: boolean) => {
        if (!existsSync(d)) return;
        for (const e of readdirSync(d)) {
          const p = join(d, e);
          const st = statSync(p, { throwIfNoEntry: false });
          if (st?.isDirectory()) walk(p, e === id);
          else if (inTask && e.startsWith('worker') && e.endsWith('.ndjson')) {
            for (const m of readFileSync(p, 'utf8').matchAll(/HOSTILE-REPORT (\{.*?\})"/g)) out.push(JSON.parse(JSON.parse(`"${m[1]}"`)));
          }
        }
      };
      for (const root of bed.reportRoots) walk(root, false);
      return out;
    },

    /**
     * Everything a leak must not reach: every object in the main clone (main, PR branches, tags, any ref), the
     * database's text (PRs, comments, checks logs, ledger), the engine's logs, and the daemon's output.
     */
    haystack(extra = ''): string {
      const parts = [extra];
      const objects = tgit(dir, ['rev-list', '--all', '--objects']).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
      if (objects.length) parts.push(tgit(dir, ['cat-file', '--batch'], objects.join('\n') + '\n'));
      for (const table of ['pull_request', 'pull_request_comment', 'event', 'tasks']) {
        try {
          parts.push(JSON.stringify(query(db, `SELECT * FROM ${table}`)));
        } catch {
          /* a table another schema version lacks */
        }
      }
      const walk = (d: string) => {
        if (!existsSync(d)) return;
        for (const e of readdirSync(d)) {
          const p = join(d, e);
          if (statSync(p).isDirectory()) walk(p);
          else parts.push(readFileSync(p, 'latin1'));
        }
      };
      walk(join(stateDir, 'logs'));
      return parts.join('\n');
    },

    /** Where each of `values` was found: main's tree, any ref's objects, the database, the logs (the evidence line). */
    whereLeaked(values: string[]): Record<string, string[]> {
      const mainText = bed.mainFiles().map((f) => bed.fileOnMain(f) ?? '').join('\n');
      const objects = bed.haystack();
      const dbText = ['pull_request', 'pull_request_comment', 'event'].map((t) => JSON.stringify(query(db, `SELECT * FROM ${t}`))).join('\n');
      const out: Record<string, string[]> = {};
      for (const v of values) {
        const at = [mainText.includes(v) && 'main', dbText.includes(v) && 'database', objects.includes(v) && 'repository or logs'].filter(Boolean) as string[];
        if (at.length) out[v] = at;
      }
      return out;
    },

    /** Pids of processes an attack left behind (found by the run token on their command line). */
    lingering(): number[] {
      const pids: number[] = [];
      for (const p of readdirSync('/proc')) {
        if (!/^\d+$/.test(p)) continue;
        try {
          if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`HOSTILE-LINGER-${run}`) && isAlive(Number(p))) pids.push(Number(p));
        } catch {
          /* gone */
        }
      }
      return pids;
    },

    /** Every process this bed started that is still there: daemons, agents and checks (they carry HOSTILE_RUN), stragglers. */
    processes(): number[] {
      const pids = new Set([...children, ...bed.lingering()]);
      for (const p of readdirSync('/proc')) {
        if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
        try {
          if (readFileSync(`/proc/${p}/environ`, 'latin1').includes(`HOSTILE_RUN=${run}\0`)) pids.add(Number(p));
        } catch {
          /* gone, or not ours to read */
        }
      }
      return [...pids];
    },

    async cleanup(): Promise<void> {
      for (const pid of bed.processes()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await waitFor('the bed\'s processes to end', () => bed.lingering().length === 0, 10_000).catch(() => undefined);
      rmSync(parent, { recursive: true, force: true });
    },
  };
  return bed;
}

/** Which sentinels of `bed` occur in `text`. */
export function leaked(bed: HostileBed, text: string, which: 'engine' | 'home' | 'outside' = 'engine'): string[] {
  const values = which === 'engine' ? Object.values(bed.secrets) : which === 'home' ? Object.values(bed.homeSecrets).map((v) => /SENTINEL\w+/.exec(v)![0]) : [bed.outsideSecret];
  return values.filter((v) => text.includes(v));
}
