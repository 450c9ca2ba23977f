import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, oxi, query, sampleProject, spawnOxi, waitFor } from '../helpers/project.js';

type Ev = { id: number; actor: string; kind: string };
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

/** A project whose workers take a few seconds, so a kill lands while they run. */
function slowProject(delayMs: number) {
  const p = sampleProject({
    tasks: 3,
    script: (s) => Object.values(s.tasks).forEach((t) => Object.assign(t, { behaviour: 'slow', delayMs })),
    config: (c) => Object.assign(c.engine, { prWatchIntervalMs: 200, seedIntervalMs: 300, reaperIntervalMs: 300 }),
  });
  cleanups.push(p.cleanup);
  return p;
}

/**
 * Waits until prWatcher's row has been rewritten at least 2·`n` times (each scan is idle → scanning → idle):
 * a window the engine's own pace sets, not the wall clock. prWatcher is the one actor a kill leaves running.
 */
async function prWatcherScans(db: string, n: number): Promise<void> {
  const seq = () => query<{ seq: number }>(db, `SELECT seq FROM actor_snapshot WHERE actor='prWatcher'`)[0]?.seq ?? 0;
  let writes = 0;
  let last = seq();
  await waitFor(`${n} prWatcher scans`, () => {
    const now = seq();
    if (now !== last) writes++;
    last = now;
    return writes >= 2 * n;
  }, 60_000, 20);
}

/** Whether the task's worker wrote its result after `since`: it went on past the kill and ended its turn itself, not stopped by a signal. */
function endedItsTurnAfter(projectDir: string, taskId: string, since: number): boolean {
  const dir = join(projectDir, '.oxi', 'logs', taskId);
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((f) => {
    const file = join(dir, f);
    return f.startsWith('worker') && f.endsWith('.ndjson') && statSync(file).mtimeMs >= since && readFileSync(file, 'utf8').split('\n').some((l) => /^\{"type":\s*"result"/.test(l));
  });
}

describe('killswitch', () => {
  it('oxi kill stops every actor but prWatcher; running agents finish their turn; oxi unkill finishes everything', async () => {
    // Long enough that the worker is surely still in its turn when a slow `oxi kill` (a loaded machine, a sandboxed start) lands.
    const p = slowProject(15_000);
    const daemon = spawnOxi(['--config', p.configPath, 'run']);
    cleanups.push(() => daemon.kill('SIGKILL'));
    const working = await waitFor('a task working', () => query<{ id: string; worker_pid: number }>(p.db, `SELECT id, worker_pid FROM tasks WHERE status='working' AND worker_pid IS NOT NULL`)[0]);

    const killed = oxi(['--config', p.configPath, 'kill', '--reason', 'operator test', '--json']);
    expect(killed.code, killed.stderr).toBe(0);
    expect(JSON.parse(killed.stdout)).toEqual(expect.objectContaining({ killed: true, reason: 'operator test', hard: false }));
    await waitFor('tasks held', () => query(p.db, `SELECT id FROM tasks WHERE status='held'`).length > 0);
    // The kill's own transaction has landed once no task is left outside held or queued.
    await waitFor('every task held', () => query(p.db, `SELECT id FROM tasks WHERE status NOT IN ('held','queued')`).length === 0);
    const mark = query<{ id: number }>(p.db, 'SELECT MAX(id) AS id FROM event')[0].id;
    // The killswitch is logged once, on the transition.
    expect(query<Ev>(p.db, `SELECT * FROM event WHERE kind='engineState.killed'`)).toHaveLength(1);
    // A soft kill leaves the running agent to finish its turn: it still runs, or (a slow kill on a loaded machine) it ended its turn itself.
    const killedAt = query<{ at: number }>(p.db, `SELECT at FROM event WHERE kind='engineState.killed'`)[0]!.at;
    expect(isAlive(working.worker_pid) || endedItsTurnAfter(p.dir, working.id, killedAt), 'the worker was stopped by a soft kill').toBe(true);
    await prWatcherScans(p.db, 6);
    const after = query<Ev>(p.db, 'SELECT * FROM event WHERE id > ?', mark);
    expect(after.filter((e) => e.actor !== 'prWatcher'), JSON.stringify(after)).toEqual([]);
    expect(query(p.db, `SELECT id FROM tasks WHERE status NOT IN ('held','queued')`)).toEqual([]);
    const status = JSON.parse(oxi(['--config', p.configPath, 'status', '--json']).stdout);
    expect(status.engine).toEqual(expect.objectContaining({ killed: true, reason: 'operator test' }));
    expect(existsSync(join(p.dir, '.oxi', 'KILLSWITCH'))).toBe(true);

    const resumed = oxi(['--config', p.configPath, 'unkill']);
    expect(resumed.code, resumed.stderr).toBe(0);
    await waitFor('all merged', () => query<{ n: number }>(p.db, `SELECT COUNT(*) AS n FROM tasks WHERE status='merged'`)[0].n === 3, 120_000);
    expect(query<Ev>(p.db, `SELECT * FROM event WHERE kind='engineState.running' AND id > ?`, mark)).toHaveLength(1);
    // The worker that was running at the kill was adopted, not started twice.
    expect(query(p.db, `SELECT id FROM event WHERE task=? AND kind='task.working'`, working.id).length).toBeLessThanOrEqual(2);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('a kill with no daemon holds at the next start: nothing is seeded or dispatched until unkill', async () => {
    const p = slowProject(100);
    expect(oxi(['--config', p.configPath, 'kill', '--reason', 'before start']).code).toBe(0);
    const daemon = spawnOxi(['--config', p.configPath, 'run']);
    cleanups.push(() => daemon.kill('SIGKILL'));
    // Booted: the engine's first commit wrote the seeder's row (after the daemon's config.loaded row).
    await waitFor('engine booted', () => query(p.db, `SELECT 1 FROM actor_snapshot WHERE actor='seeder'`).length > 0, 90_000);
    const mark = query<{ id: number }>(p.db, 'SELECT COALESCE(MAX(id), 0) AS id FROM event')[0].id;
    // A window measured in the engine's own work: prWatcher (every 200 ms, the only actor a kill leaves running) scans 4 times.
    await prWatcherScans(p.db, 4);
    // Nothing seeded, nothing dispatched; after boot, nothing but prWatcher moves.
    expect(query(p.db, `SELECT id FROM tasks`)).toEqual([]);
    expect(query<Ev>(p.db, `SELECT * FROM event WHERE id > ? AND actor != 'prWatcher'`, mark)).toEqual([]);
    expect(query<{ value: string }>(p.db, `SELECT value FROM actor_snapshot WHERE actor='seeder'`)[0].value).toBe('"held"');
    expect(oxi(['--config', p.configPath, 'unkill']).code).toBe(0);
    await waitFor('all merged', () => query<{ n: number }>(p.db, `SELECT COUNT(*) AS n FROM tasks WHERE status='merged'`)[0]?.n === 3, 60_000);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('kill --hard terminates running agent sessions', async () => {
    const p = slowProject(20_000);
    const daemon = spawnOxi(['--config', p.configPath, 'run']);
    cleanups.push(() => daemon.kill('SIGKILL'));
    const working = await waitFor('a task working', () => query<{ worker_pid: number }>(p.db, `SELECT worker_pid FROM tasks WHERE status='working' AND worker_pid IS NOT NULL`)[0]);
    expect(oxi(['--config', p.configPath, 'kill', '--reason', 'stop now', '--hard']).code).toBe(0);
    await waitFor('worker terminated', () => !isAlive(working.worker_pid), 10_000);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });
});

describe('daemon', () => {
  it('refuses a second daemon, answers oxi send, and drains on SIGTERM leaving no worker behind', async () => {
    const p = slowProject(1500);
    const daemon = spawnOxi(['--config', p.configPath, 'run']);
    cleanups.push(() => daemon.kill('SIGKILL'));
    const working = await waitFor('a task working', () => query<{ id: string; worker_pid: number }>(p.db, `SELECT id, worker_pid FROM tasks WHERE status='working' AND worker_pid IS NOT NULL`)[0]);
    const second = oxi(['--config', p.configPath, 'run']);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/already running/);
    const sent = oxi(['--config', p.configPath, 'send', 'reaper', 'reaper.scan', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout)).toEqual({ delivered: true, actor: 'reaper', event: 'reaper.scan' });
    const missing = oxi(['--config', p.configPath, 'send', 'task:NOPE', 'task.retry']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/No live actor "task:NOPE"/);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(isAlive(working.worker_pid)).toBe(false);
    expect(existsSync(join(p.dir, '.oxi', 'oxi.pid'))).toBe(false);
  });
});
