/**
 * `agents.sandbox.required: true` on a host without a sandbox: the worker launch is refused with a named
 * error before anything starts (an environment condition: the task machine waits without spending an
 * attempt), and `oxi doctor` says so; without `required`, doctor says plainly that agents are NOT sandboxed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent } from '../../../actors/effects/run-agent.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import { LocalHost } from '../../../actors/hosts/local-host.js';
import { sandboxChecks, sandboxResult } from '../../../src/doctor/sandbox.js';
import type { DoctorContext } from '../../../src/doctor/types.js';
import { SandboxUnavailableError } from '../../../src/errors.js';
import type { ExecOptions } from '../../../src/ports.js';
import { agentFixture, FAKE_CLAUDE, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { makeRepo, type TestRepo } from '../../helpers/git-repo.js';

/** This machine with a PATH on which no bwrap is found: a host without bubblewrap. */
class HostWithoutBwrap extends LocalHost {
  override exec(argv: readonly string[], options: ExecOptions = {}) {
    return argv[0] === '/bin/sh' ? super.exec(argv, { ...options, env: { PATH: '/nonexistent' } }) : super.exec(argv, options);
  }
}

let repo: TestRepo | undefined;
let fx: AgentFixture | undefined;
afterEach(() => {
  fx?.close();
  repo?.cleanup();
  fx = repo = undefined;
});

function setup(sandbox: Record<string, unknown>) {
  repo = makeRepo();
  fx = agentFixture(repo.dir, join(repo.scratch, 'state'), { agents: { worker: { backend: 'claude' }, claude: { command: [process.execPath, FAKE_CLAUDE] }, sandbox } });
  seedTask(fx.db, 'T1');
  return fx;
}

/** The worker's directory: never the main clone (the engine restores a workspace's git state before a launch). */
async function workspaceOf(r: TestRepo): Promise<string> {
  const path = join(r.scratch, 'ws');
  await ensureWorkspace({ mainClone: r.dir, path, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  return path;
}

const input = (cwd: string) => ({ taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1', plan: { files_touched: ['a.txt'], tests: [], dependencies: [], risk: 'low', summary: 's' }, feedback: null, fix: 0, title: 'T1', description: 'SCENARIO=happy' });

describe('agents.sandbox.required', () => {
  it('refuses the worker launch on a host without a sandbox: a named environment error, no worker started, no pid recorded', async () => {
    const f = setup({ required: true });
    f.deps.hosts.set('local', new HostWithoutBwrap('local'));
    const refused = await runAgent(f.deps, input(await workspaceOf(repo!)), new AbortController().signal).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SandboxUnavailableError);
    // What the task machine's envError guard reads: wait for a slot again, no attempt spent.
    expect((refused as SandboxUnavailableError).outage).toBe('environment');
    expect((refused as Error).message).toMatch(/^Expected a sandbox for the worker on host "local" \(agents\.sandbox\.required is true\); found none: bwrap is not installed/);
    const logs = join(f.adapter.paths.logs, 'T1');
    expect(existsSync(join(logs, 'worker-a0-f0.json'))).toBe(false);
    expect(existsSync(join(logs, 'worker-a0-f0.ndjson.pid'))).toBe(false);
    expect((f.db.prepare('SELECT worker_pid FROM tasks WHERE id = ?').get('T1') as { worker_pid: number | null }).worker_pid).toBeNull();
  });

  it('the same launch on this machine (bubblewrap present) runs sandboxed and works', async () => {
    const f = setup({ required: true, writable: [repo?.scratch ?? '/nonexistent'] });
    const out = await runAgent(f.deps, input(await workspaceOf(repo!)), new AbortController().signal);
    expect(out.outcome).toBe('ok');
  });
});

describe('oxi doctor: sandbox', () => {
  const ctx = (sandbox: Record<string, unknown>): DoctorContext => {
    const f = setup(sandbox);
    return { cwd: repo!.dir, env: process.env, home: '/root', adapter: f.adapter, fetch: globalThis.fetch, now: Date.now, run: async () => ({ ok: true, exitCode: 0, stdout: '', stderr: '' }) };
  };

  it('says agents are sandboxed here, by which program', async () => {
    const [r] = await sandboxChecks.check(ctx({}));
    expect(r).toMatchObject({ id: 'sandbox:local', status: 'ok' });
    expect(r.detail).toMatch(/^local: agents are sandboxed \(bubblewrap: bubblewrap \d/);
  });

  it('says plainly "agents are NOT sandboxed" when switched off (warn), and fails where none is available but one is required', async () => {
    const [off] = await sandboxChecks.check(ctx({ mode: 'none' }));
    expect(off).toMatchObject({ status: 'warn', detail: 'local: agents are NOT sandboxed (agents.sandbox.mode is "none")' });
    expect(off.fix).toContain('agents.sandbox.mode');
    const missing = { kind: 'none' as const, available: false, reason: 'bwrap is not installed on this Linux host (install the bubblewrap package)' };
    const required = sandboxResult(missing, { mode: 'auto', required: true, network: 'open', writable: [] }, 'build-1');
    expect(required).toMatchObject({ status: 'fail', detail: 'agents are NOT sandboxed (bwrap is not installed on this Linux host (install the bubblewrap package)); agents.sandbox.required is true, so no agent will start there' });
    expect(required.fix).toContain('apt-get install bubblewrap');
  });
});
