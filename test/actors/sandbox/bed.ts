/**
 * A bed for sandbox tests: a main clone with its state dir, two task workspaces (standalone `git clone
 * --shared` clones, objects borrowed through alternates), a temp HOME holding claude and codex logins, and
 * a helper that runs an agent command through the real sandbox on the real local host.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHost } from '../../../actors/hosts/local-host.js';
import { sandboxOf } from '../../../actors/sandbox/sandbox.js';
import type { Adapter, AdapterInput } from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/validate.js';
import type { ExecResult } from '../../../src/ports.js';
import type { SandboxRequest } from '../../../src/sandbox/port.js';
import { gitSync, makeRepo, type TestRepo } from '../../helpers/git-repo.js';

export const CLAUDE_SECRET = 'claude-credential-4711';
export const CODEX_SECRET = 'codex-credential-0815';
export const OTHER_TASK_SECRET = 'other-task-work-1234';
export const STATE_SECRET = 'engine-state-9876';

export interface Bed {
  repo: TestRepo;
  main: string;
  stateDir: string;
  ws1: string;
  ws2: string;
  home: string;
  host: LocalHost;
  adapter(sandbox?: NonNullable<AdapterInput['agents']>['sandbox']): Adapter;
  /** Runs `sh -c script` as an agent in the sandbox (worker in ws1 unless told otherwise). */
  run(script: string, options?: { backend?: string; role?: SandboxRequest['role']; workspace?: string; sandbox?: NonNullable<AdapterInput['agents']>['sandbox'] }): Promise<ExecResult & { argv: string[] }>;
  cleanup(): void;
}

export function makeBed(): Bed {
  const repo = makeRepo();
  const main = repo.dir;
  const stateDir = join(main, '.oxi');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'state-secret'), STATE_SECRET);
  const wsRoot = join(stateDir, 'worktrees', 'p-default');
  mkdirSync(wsRoot, { recursive: true });
  const clone = (id: string) => {
    const ws = join(wsRoot, id);
    gitSync(wsRoot, ['clone', '-q', '--shared', main, ws]);
    gitSync(ws, ['config', 'commit.gpgsign', 'false']);
    return ws;
  };
  const ws1 = clone('T1');
  const ws2 = clone('T2');
  writeFileSync(join(ws2, 'secret.txt'), OTHER_TASK_SECRET);
  const home = mkdtempSync(join(tmpdir(), 'oxi-home-'));
  mkdirSync(join(home, '.claude'), { recursive: true });
  writeFileSync(join(home, '.claude', '.credentials.json'), CLAUDE_SECRET);
  writeFileSync(join(home, '.claude', 'settings.json'), '{}');
  writeFileSync(join(home, '.claude.json'), '{}');
  mkdirSync(join(home, '.codex'), { recursive: true });
  writeFileSync(join(home, '.codex', 'auth.json'), CODEX_SECRET);
  const host = new LocalHost('local');
  const adapter = (sandbox: NonNullable<AdapterInput['agents']>['sandbox'] = {}) => validateConfig({ name: 'p', agents: { sandbox } }, { configPath: join(main, 'oxi.config.json') });
  return {
    repo, main, stateDir, ws1, ws2, home, host, adapter,
    async run(script, options = {}) {
      const role = options.role ?? 'worker';
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
      const workspace = options.workspace ?? (role === 'worker' ? ws1 : main);
      const { argv, network } = await sandboxOf(adapter(options.sandbox), host).wrap({ role, backend: options.backend ?? 'claude', argv: ['sh', '-c', script], env, workspace, writable: role === 'worker', waited: role !== 'worker' });
      try {
        return { ...(await host.exec(argv, { env, cwd: workspace, timeoutMs: 30_000 })), argv };
      } finally {
        await network?.release();
      }
    },
    cleanup() {
      repo.cleanup();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Pids of live processes whose command line contains `marker` (seen from outside any sandbox). */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(marker)) found.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return found;
}
