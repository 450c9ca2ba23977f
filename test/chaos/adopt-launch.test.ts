import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EffectDeps } from '../../actors/effects/deps.js';
import { runAgent, workerFiles } from '../../actors/effects/run-agent.js';
import { LocalHost } from '../../actors/hosts/local-host.js';
import { parseAgentStream } from '../../src/agents/stream.js';
import { systemClock } from '../../src/clock.js';
import { validateConfig } from '../../src/config/validate.js';
import { openDb } from '../../src/store/db.js';
import { ingestItems } from '../../src/store/tasks.js';
import { isAlive } from '../helpers/project.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-adopt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One task's row in a fresh project, and the effect deps runAgent needs, on `host` with `agents`. */
function bed(name: string, taskId: string, host: LocalHost, agents: Record<string, unknown>) {
  const adapter = validateConfig({ name, checks: { command: ['true'] }, agents: { scripted: { script: 's.json' } } }, { configPath: join(dir, name, 'oxi.config.json') });
  mkdirSync(adapter.paths.stateDir, { recursive: true });
  const db = openDb(adapter.paths.db);
  ingestItems(db, [{ id: taskId, repo: name, tier: 0, title: 't', description: 'd', seq: 0 }], Date.now());
  const deps = { db, clock: systemClock, adapter, hosts: new Map([['local', host]]), agents, workerStopMode: () => 'detach', watchIntervalMs: 50 } as unknown as EffectDeps;
  const input = { taskId, attempt: 0, host: 'local', worktree: dir, branch: 'b', plan: { files_touched: ['a'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 't', description: 'd' };
  const workerPid = () => (db.prepare('SELECT worker_pid FROM tasks').get() as { worker_pid: number | null }).worker_pid;
  return { adapter, db, deps, input, workerPid };
}

/**
 * Found by the chaos suite: a SIGKILL between the worker's spawn and the write of its state file
 * left a worker no one recorded, and the restored task started a second one. The host now writes
 * the pid in the same synchronous frame as the fork, and runAgent adopts it.
 */
describe('runAgent after a crash between spawn and record', () => {
  it('adopts the worker the pid file names instead of launching a second one', async () => {
    const host = new LocalHost('local');
    let launches = 0;
    const { adapter, db, deps, input, workerPid } = bed('adopt', 'T0-1', host, {
      complete: async () => {
        throw new Error('unused');
      },
      workerLaunch: () => {
        launches++;
        return { argv: [process.execPath, '-e', ''], env: {}, backend: 'scripted' };
      },
      parseWorkerLog: (text: string) => {
        const t = parseAgentStream(text, 'claude').terminal;
        return t && { ok: t.ok, text: t.text, usage: { costUsd: t.costUsd }, backend: 'scripted' };
      },
    });
    const files = workerFiles(adapter.paths.logs, 'T0-1', 0, 0);
    mkdirSync(files.dir, { recursive: true });
    const result = JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: 'done', total_cost_usd: 0.3, session_id: 's' });
    // The crashed engine's launch: the process runs, its pid file exists, no state file, no DB record.
    const { pid } = await host.spawnDetached([process.execPath, '-e', `setTimeout(() => console.log(${JSON.stringify(result)}), 400)`], {
      cwd: dir,
      stdoutFile: files.stream,
      stderrFile: files.stderr,
      pidFile: files.pid,
    });
    const out = await runAgent(deps, input, new AbortController().signal);
    expect(launches).toBe(0);
    expect(out).toMatchObject({ outcome: 'ok', costUsd: 0.3 });
    expect(workerPid()).toBe(pid);
    expect(isAlive(pid)).toBe(false);
    db.close();
  });
});

/** A local host that behaves as a remote one does: files read through the host, each read a round trip. */
class RoundTripHost extends LocalHost {
  spawned = 0;
  onPidRead: () => void = () => undefined;
  async fileSize(path: string): Promise<number | undefined> {
    return (await this.readFile(path))?.length;
  }
  override async readFile(path: string): Promise<string | undefined> {
    if (path.endsWith('.pid')) this.onPidRead();
    return super.readFile(path);
  }
  override async spawnDetached(...args: Parameters<LocalHost['spawnDetached']>) {
    this.spawned++;
    return super.spawnDetached(...args);
  }
}

describe('runAgent on a host read over the network, killed during the last read before the spawn', () => {
  it('starts no worker: the kill is checked after the pid-file read, right before the spawn', async () => {
    const host = new RoundTripHost('local');
    const { db, deps, input, workerPid } = bed('abort', 'T0-2', host, { workerLaunch: () => ({ argv: [process.execPath, '-e', ''], env: {}, backend: 'scripted' }) });
    const kill = new AbortController();
    let pidReads = 0;
    // The first read of the pid file looks for a crashed launch; the second is spawnOnce's, the last before the spawn.
    host.onPidRead = () => {
      if (++pidReads === 2) kill.abort();
    };
    const run = runAgent(deps, input, kill.signal);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(pidReads).toBe(2);
    expect(host.spawned).toBe(0);
    expect(workerPid()).toBeNull();
    db.close();
  });
});
