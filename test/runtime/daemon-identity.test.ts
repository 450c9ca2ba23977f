/**
 * "A daemon is running" is decided by the daemon lock (and the control socket), never by kill(pid, 0):
 * a pid file naming a zombie, naming an unrelated live process (pid 1), or left by a daemon SIGKILLed
 * 0.3 s ago must not block `oxi run`; the stale file is reported and replaced.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { socketPath } from '../../src/runtime/control.js';
import { daemonHoldsLock, pidFilePath, readPid, readPidFile, runningDaemon } from '../../src/runtime/pidfile.js';
import { processExists } from '../../src/process.js';
import { oxi, sampleProject, spawnDaemon, waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function project() {
  const p = sampleProject({ tasks: 1 });
  cleanups.push(p.cleanup);
  // Held: the daemon idles (no agent runs), which is all these tests need of it.
  expect(oxi(['kill', '--reason', 'identity test'], { cwd: p.dir }).code).toBe(0);
  return { ...p, stateDir: join(p.dir, '.oxi') };
}

const daemon = (dir: string) => spawnDaemon(dir, cleanups);

/** Up means: its socket answers a ping with its own pid. */
const up = (stateDir: string, pid: number) => waitFor(`daemon ${pid} answering`, async () => (await runningDaemon(stateDir))?.pid === pid, 30_000);

function writeStalePid(stateDir: string, pid: number) {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(pidFilePath(stateDir), JSON.stringify({ pid, socket: socketPath(stateDir), startedAt: Date.UTC(2026, 0, 1) }) + '\n');
}

async function stopDaemon(d: ReturnType<typeof daemon>) {
  d.kill('SIGTERM');
  expect(await d.exited).toBe(0);
}

describe('daemon identity', () => {
  it('a zombie pid in the pid file does not block a start; it is reported and replaced', async () => {
    const p = project();
    // A real zombie: `sleep 0` exits, and its parent (sh exec'd into `sleep 60`) never reaps it.
    const parent: ChildProcess = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    cleanups.push(() => parent.kill('SIGKILL'));
    const zombie = Number(await new Promise<string>((r) => parent.stdout!.once('data', (d) => r(String(d).trim()))));
    await waitFor('the child to be a zombie', () => /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${zombie}/stat`, 'utf8')));
    expect(processExists(zombie)).toBe(true); // what kill(pid, 0) alone would have trusted
    writeStalePid(p.stateDir, zombie);
    expect(readPid(p.stateDir)).toBeUndefined();

    const d = daemon(p.dir);
    await up(p.stateDir, d.pid!);
    expect(readPidFile(p.stateDir)?.pid).toBe(d.pid);
    expect(readPid(p.stateDir)?.pid).toBe(d.pid);
    expect(d.output()).toContain(`stale pid file replaced: pid ${zombie}`);
    // The live one does block a second start, with the pid and the fix.
    const second = oxi(['run', '--no-dashboard'], { cwd: p.dir, timeoutMs: 30_000 });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`An oxi daemon is already running for this project (pid ${d.pid})`);
    await stopDaemon(d);
    expect(daemonHoldsLock(p.stateDir)).toBe(false);
  });

  it('a live unrelated pid (pid 1) in the pid file does not block a start', async () => {
    const p = project();
    writeStalePid(p.stateDir, 1);
    expect(processExists(1)).toBe(true);
    const d = daemon(p.dir);
    await up(p.stateDir, d.pid!);
    expect(d.output()).toContain('stale pid file replaced: pid 1 ');
    await stopDaemon(d);
  });

  it('a restart 0.3 s after SIGKILL starts', async () => {
    const p = project();
    const first = daemon(p.dir);
    await up(p.stateDir, first.pid!);
    first.kill('SIGKILL');
    await first.exited;
    // The scenario itself: a service manager restarting 0.3 s later (not a wait for a condition).
    await sleep(300);
    expect(readPidFile(p.stateDir)?.pid).toBe(first.pid); // left behind by the killed daemon
    const second = daemon(p.dir);
    await up(p.stateDir, second.pid!);
    expect(second.output()).toContain(`stale pid file replaced: pid ${first.pid}`);
    await stopDaemon(second);
  });
});
