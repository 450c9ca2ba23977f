/**
 * The daemon survives an unhandled promise rejection: it logs it, records it in the ledger and keeps
 * running (Node's default would exit and leave every agent unwatched). The rejection is injected into a
 * real `oxi run` by a preloaded module, since nothing in the engine produces one any more.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runningDaemon } from '../../src/runtime/pidfile.js';
import { OXI, oxi, query, sampleProject, waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('an unhandled promise rejection in the daemon', () => {
  it('is logged and recorded, and the daemon keeps running and answering', async () => {
    const p = sampleProject({ tasks: 1 });
    cleanups.push(p.cleanup);
    expect(oxi(['kill', '--reason', 'idle daemon'], { cwd: p.dir }).code).toBe(0);
    const inject = join(p.dir, '..', 'inject-rejection.mjs');
    // On SIGUSR2 (sent once the daemon answers on its socket), a promise rejects with nobody to handle it.
    writeFileSync(inject, "process.on('SIGUSR2', () => { Promise.reject(new Error('injected fault: nobody handles this')); });\n");
    const child = spawn(process.execPath, ['--import', inject, OXI, 'run', '--no-dashboard'], { cwd: p.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) (child.kill('SIGKILL'), await exited);
    });
    const stateDir = join(p.dir, '.oxi');
    await waitFor('the daemon answering', async () => (await runningDaemon(stateDir))?.pid === child.pid, 120_000).catch((e) => {
      throw new Error(`${e.message}\n${out}`);
    });
    child.kill('SIGUSR2');
    await waitFor('the rejection logged', () => out.includes('unhandled promise rejection (the daemon keeps running'), 60_000);
    expect(out).toContain('injected fault: nobody handles this');
    expect(query<{ payload: string }>(p.db, `SELECT payload FROM event WHERE kind = 'engine.unhandled_rejection'`).map((r) => JSON.parse(r.payload))).toEqual([{ error: 'injected fault: nobody handles this' }]);
    // Still alive and answering after it.
    expect(child.exitCode).toBeNull();
    expect((await runningDaemon(stateDir))?.pid).toBe(child.pid);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
