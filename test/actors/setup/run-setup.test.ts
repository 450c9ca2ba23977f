/**
 * The setup effect on a real workspace (a git clone), the local host and the real sandbox: when it runs (once per
 * attempt; on a fix attempt only when its cache key changed), how it fails (an environment error with the log's
 * first error line; the same setup failing on a clean retry spends the attempt), its timeout, and the files it copies.
 */
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureSetup } from '../../../actors/setup/run-setup.js';
import { cacheDirOf } from '../../../actors/setup/paths.js';
import { SetupFailedError } from '../../../src/errors.js';
import { agentFixture, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { gitSync, makeRepo, type TestRepo } from '../../helpers/git-repo.js';
import { isAlive } from '../../helpers/project.js';

let repo: TestRepo | undefined;
let fx: AgentFixture | undefined;
afterEach(() => {
  fx?.close();
  repo?.cleanup();
  fx = repo = undefined;
});

/** A main clone, a workspace cloned from it, and effect deps whose adapter has `workspace`. */
function bed(workspace: Record<string, unknown>, files: Record<string, string> = {}) {
  repo = makeRepo({ files: { 'package-lock.json': '{"v":1}\n', '.env.example': 'A=1\n', ...files } });
  const ws = join(repo.scratch, 'ws');
  gitSync(repo.scratch, ['clone', '-q', repo.dir, ws]);
  fx = agentFixture(repo.dir, join(repo.scratch, 'state'), { agents: { worker: { backend: 'claude' } }, workspace });
  seedTask(fx.db, 'T1');
  const deps = fx.deps;
  const run = (attempt: number, fix: number) => ensureSetup(deps, { taskId: 'T1', attempt, fix, host: 'local', worktree: ws }, new AbortController().signal);
  return { ws, deps, run, cache: cacheDirOf(deps, 'local') };
}

/** A setup that counts its runs in the cache directory (npm_config_cache points inside it). */
const COUNTING = [process.execPath, '-e', "const f = require('node:path').join(require('node:path').dirname(process.env.npm_config_cache), 'runs'); require('node:fs').appendFileSync(f, 'x')"];
const runs = (cache: string) => (existsSync(join(cache, 'runs')) ? readFileSync(join(cache, 'runs'), 'utf8').length : 0);

describe('workspace setup: when it runs', { timeout: 120_000 }, () => {
  it('runs once per attempt, again on a fix attempt only when a cacheKey file changed', async () => {
    const { ws, run, cache } = bed({ setup: { command: COUNTING, cacheKey: ['package-lock.json'] } });
    expect(await run(0, 0)).toMatchObject({ ran: true, ok: true });
    expect(runs(cache)).toBe(1);
    // The worker relaunched after an outage, and a fix attempt with the same lockfile: no second setup.
    expect(await run(0, 0)).toMatchObject({ ran: false });
    expect(await run(0, 1)).toMatchObject({ ran: false });
    expect(runs(cache)).toBe(1);
    // The worker changed the lockfile: the fix attempt sets up again.
    writeFileSync(join(ws, 'package-lock.json'), '{"v":2}\n');
    expect(await run(0, 2)).toMatchObject({ ran: true, ok: true });
    expect(runs(cache)).toBe(2);
    // A new attempt sets up again.
    expect(await run(1, 0)).toMatchObject({ ran: true, ok: true });
    expect(runs(cache)).toBe(3);
  });

  it('copies workspace.files before the setup, and never writes through a symlink in the workspace', async () => {
    const b = bed({ files: [{ from: '.env.example', to: '.env' }, { from: '.env.example', to: 'config/local.env' }] });
    expect(await b.run(0, 0)).toMatchObject({ ran: true, ok: true });
    expect(readFileSync(join(b.ws, '.env'), 'utf8')).toBe('A=1\n');
    expect(readFileSync(join(b.ws, 'config', 'local.env'), 'utf8')).toBe('A=1\n');
    // An agent committed a link where a file is copied (a later attempt): refused, the target untouched.
    const outside = join(repo!.scratch, 'outside.txt');
    writeFileSync(outside, 'precious\n');
    symlinkSync(repo!.scratch, join(b.ws, 'config2'));
    // Committed, so the clean before the next setup keeps it.
    gitSync(b.ws, ['add', 'config2']);
    gitSync(b.ws, ['commit', '-qm', 'agent: a link']);
    b.deps.adapter.workspace.files.push({ from: '.env.example', to: 'config2/outside.txt' });
    await expect(b.run(1, 0)).rejects.toThrow(/config2 is a symlink/);
    expect(readFileSync(outside, 'utf8')).toBe('precious\n');
  });
});

describe('workspace setup: its own secrets', { timeout: 120_000 }, () => {
  /** Writes whether it got the secret into the cache directory (outside the workspace). */
  const PROBE = [process.execPath, '-e', "require('node:fs').writeFileSync(require('node:path').join(require('node:path').dirname(process.env.npm_config_cache), 'got'), process.env.OXI_TEST_SETUP_SECRET ?? 'nothing')"];

  it('reach a setup of reviewed code, never one that would run an agent\'s commit', async () => {
    process.env.OXI_TEST_SETUP_SECRET = 'setup-only-value';
    try {
      const { ws, run, cache, deps } = bed({ setup: { command: PROBE, cacheKey: ['package-lock.json'], env: { allow: ['PATH', 'HOME', 'OXI_TEST_SETUP_SECRET'] } } });
      expect(await run(0, 0)).toMatchObject({ ran: true, ok: true });
      expect(readFileSync(join(cache, 'got'), 'utf8')).toBe('setup-only-value');
      // The worker commits a new lockfile (and could have added a postinstall): the fix attempt's setup runs its code.
      writeFileSync(join(ws, 'package-lock.json'), '{"v":"agent"}\n');
      gitSync(ws, ['commit', '-qam', 'agent change']);
      const fix = await run(0, 1);
      expect(fix).toMatchObject({ ran: true, ok: true });
      expect(fix.ledger[0].payload).toMatchObject({ withheld: ['OXI_TEST_SETUP_SECRET'], cleaned: true });
      expect(readFileSync(join(cache, 'got'), 'utf8')).toBe('nothing');
      expect(deps.adapter.workspace.setup?.env.allow).toContain('OXI_TEST_SETUP_SECRET');
    } finally {
      delete process.env.OXI_TEST_SETUP_SECRET;
    }
  });
});

describe('workspace setup: failures', { timeout: 120_000 }, () => {
  it('fails first as an environment error naming the first error line; the same setup failing on a clean retry spends the attempt', async () => {
    const failing = ['sh', '-c', 'echo "installing"; echo "npm ERR! code E404" >&2; echo "npm ERR! 404 Not Found"; exit 1'];
    const { ws, run } = bed({ setup: { command: failing } });
    const first = await run(0, 0).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(SetupFailedError);
    expect((first as SetupFailedError).outage).toBe('environment');
    expect((first as Error).message).toContain('workspace setup failed (exit code 1): npm ERR! code E404');
    // A half-written install left behind: the clean retry starts without it.
    writeFileSync(join(ws, 'half-installed.txt'), 'junk\n');
    const again = await run(0, 0);
    expect(again).toMatchObject({ ran: true, ok: false });
    expect((again as { error: string }).error).toMatch(/npm ERR! code E404 \(again, on a clean retry/);
    expect(existsSync(join(ws, 'half-installed.txt'))).toBe(false);
    expect(existsSync(join(ws, 'package.json'))).toBe(true);
    // The next attempt gets a first try of its own (an environment error again, not a spent attempt).
    await expect(run(1, 0)).rejects.toBeInstanceOf(SetupFailedError);
  });

  it('a setup that passes on its clean retry lets the worker start', async () => {
    // Fails while a stray file is there: the clean retry removes it.
    const { ws, run } = bed({ setup: { command: ['sh', '-c', 'if [ -e stray.lock ]; then echo "error: stray.lock is in the way"; exit 2; fi'] } });
    writeFileSync(join(ws, 'stray.lock'), '');
    await expect(run(0, 0)).rejects.toThrow(/error: stray.lock is in the way/);
    expect(await run(0, 0)).toMatchObject({ ran: true, ok: true });
  });

  it('a setup over its timeout is killed with its whole group and fails', async () => {
    const { ws, run } = bed({ setup: { command: ['sh', '-c', 'sleep 60 & echo $! > bg.pid; echo started; wait'], timeoutMs: 1500 } });
    await expect(run(0, 0)).rejects.toThrow(/timed out after 1500 ms/);
    const bg = Number(readFileSync(join(ws, 'bg.pid'), 'utf8'));
    expect(bg).toBeGreaterThan(1);
    // The pid is the sandbox's own (a PID namespace) or ours: either way no `sleep 60` of this setup is left.
    expect(isAlive(bg) && readFileSync(`/proc/${bg}/cmdline`, 'latin1').includes('sleep\u000060')).toBe(false);
  });
});
