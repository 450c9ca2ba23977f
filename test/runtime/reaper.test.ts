import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { makeReapScan } from '../../actors/effects/background.js';
import type { EffectDeps } from '../../actors/effects/deps.js';
import { LocalHost } from '../../actors/hosts/local-host.js';
import { ManualClock } from '../../src/clock.js';
import { openDb } from '../../src/store/db.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, oxi, query, sampleProject, spawnOxi, waitFor } from '../helpers/project.js';

const cleanups: Array<() => void> = [];
// Last in, first out: the daemon ends before its project's leftover workers are ended and its files removed.
afterEach(() => cleanups.splice(0).reverse().forEach((f) => f()));

function project(behaviour: Record<string, unknown>, engine: Record<string, unknown> = {}) {
  const p = sampleProject({
    tasks: 1,
    script: (s) => Object.values(s.tasks).forEach((t) => Object.assign(t, behaviour)),
    config: (c) => Object.assign(c.engine, { reaperIntervalMs: 200, stallMs: 800, backoffBaseMs: 100, ...engine }),
  });
  cleanups.push(p.cleanup);
  return p;
}

describe('reaper', () => {
  it('a worker killed behind the engine\'s back is reaped and re-dispatched', async () => {
    const p = project({ behaviour: 'slow', delayMs: 2500 });
    const daemon = spawnOxi(['--config', p.configPath, 'run']);
    cleanups.push(() => daemon.kill('SIGKILL'));
    const first = await waitFor('worker running', () => query<{ worker_pid: number }>(p.db, `SELECT worker_pid FROM tasks WHERE status='working' AND worker_pid IS NOT NULL`)[0]);
    process.kill(-first.worker_pid, 'SIGKILL');
    await waitFor('merged after a re-dispatch', () => query(p.db, `SELECT id FROM tasks WHERE status='merged'`).length === 1, 60_000);
    const kinds = query<{ kind: string }>(p.db, `SELECT kind FROM event WHERE task IS NOT NULL ORDER BY id`).map((e) => e.kind);
    expect(kinds).toContain('task.reaped');
    expect(kinds.filter((k) => k === 'task.provisioning')).toHaveLength(2);
    const row = query<{ attempt: number; worker_pid: number }>(p.db, 'SELECT attempt, worker_pid FROM tasks')[0];
    expect(row.attempt).toBe(1);
    expect(row.worker_pid).not.toBe(first.worker_pid);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('never reaps a live worker: neither a slow one that reports progress nor a silent one', async () => {
    for (const behaviour of [{ behaviour: 'slow', delayMs: 3000 }, { behaviour: 'hang' }]) {
      const p = project(behaviour);
      const daemon = spawnOxi(['--config', p.configPath, 'run']);
      cleanups.push(() => daemon.kill('SIGKILL'));
      const w = await waitFor('worker running', () => query<{ worker_pid: number }>(p.db, `SELECT worker_pid FROM tasks WHERE status='working' AND worker_pid IS NOT NULL`)[0]);
      await new Promise((r) => setTimeout(r, 2500)); // > 3× stallMs, ~12 reaper scans
      expect(query(p.db, `SELECT kind FROM event WHERE kind IN ('task.reaped','reaper.reaped')`), JSON.stringify(behaviour)).toEqual([]);
      if (behaviour.behaviour === 'hang') {
        expect(isAlive(w.worker_pid)).toBe(true);
        expect(oxi(['--config', p.configPath, 'kill', '--reason', 'cleanup', '--hard']).code).toBe(0);
        await waitFor('hung worker terminated', () => !isAlive(w.worker_pid), 10_000);
      } else {
        await waitFor('merged', () => query(p.db, `SELECT id FROM tasks WHERE status='merged'`).length === 1, 30_000);
      }
      daemon.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    }
  });
});

describe('reapScan', () => {
  it('reaps only stalled working tasks whose worker is dead and that own no PR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oxi-reap-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = openDb(join(dir, 'oxi.db'));
    cleanups.push(() => db.close());
    const clock = new ManualClock(1_000_000);
    const live = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    cleanups.push(() => live.kill('SIGKILL'));
    const dead = spawn('true', [], { stdio: 'ignore' });
    await new Promise((r) => dead.on('exit', r));
    const insert = db.prepare(
      `INSERT INTO tasks (id, repo, tier, title, status, seq, host, worker_pid, pr, last_progress_at, created_at, updated_at) VALUES (?, 'r', 0, 't', ?, 0, 'local', ?, ?, ?, 0, 0)`,
    );
    const old = clock.now() - 10_000;
    insert.run('DEAD', 'working', dead.pid, null, old);
    insert.run('ALIVE', 'working', live.pid, null, old);
    insert.run('FRESH', 'working', dead.pid, null, clock.now() - 100);
    insert.run('HASPR', 'working', dead.pid, 7, old);
    insert.run('NOPID', 'working', null, null, old);
    insert.run('CHECKS', 'checks', dead.pid, 3, old);
    // A task is stale by last_progress_at only: its created_at (0) is ancient for all of them.
    const deps = { db, clock, adapter: { engine: { stallMs: 1000, janitor: { keepMs: 86_400_000 } }, hosts: [] }, hosts: new Map([['local', new LocalHost('local')]]) } as unknown as EffectDeps;
    const reapScan = makeReapScan();
    // First sighting only makes suspects: a worker that just exited may have a result to be read.
    expect((await reapScan(deps)).reap).toEqual([]);
    const out = await reapScan(deps);
    expect(out.reap.map((r) => r.taskId).sort()).toEqual(['DEAD', 'NOPID']);
    // (The janitor rides the scan; this stub adapter has no retention section, so only the reaper's rows are read.)
    expect(out.ledger?.map((l) => l.kind).filter((k) => k.startsWith('reaper.'))).toEqual(['reaper.reaped', 'reaper.reaped']);
  });
});

describe('reapScan judges one worker, not whatever the task does next', () => {
  function bed() {
    const dir = mkdtempSync(join(tmpdir(), 'oxi-reap-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = openDb(join(dir, 'oxi.db'));
    cleanups.push(() => db.close());
    const clock = new ManualClock(1_000_000);
    db.prepare(
      `INSERT INTO tasks (id, repo, tier, title, status, seq, host, worker_pid, pr, last_progress_at, created_at, updated_at) VALUES ('T', 'r', 0, 't', 'working', 0, 'h', 41, NULL, ?, 0, 0)`,
    ).run(clock.now() - 10_000);
    // A host where the recorded worker 41 is dead; `onProbe` runs as the scan asks (the engine moving meanwhile).
    const host = { onProbe: undefined as (() => void) | undefined, isAlive: async () => (host.onProbe?.(), false) };
    const deps = { db, clock, adapter: { engine: { stallMs: 1000, janitor: { keepMs: 86_400_000 } }, hosts: [] }, hosts: new Map([['h', host]]) } as unknown as EffectDeps;
    return { db, clock, deps, host };
  }

  it('a sighting from an earlier attempt never reaps the next one (a new `working` stamps the task)', async () => {
    const { db, clock, deps } = bed();
    const reapScan = makeReapScan();
    expect((await reapScan(deps)).reap).toEqual([]);
    // Between scans the task was re-dispatched: it left `working` and entered it again (stamped), its new worker not yet recorded.
    db.prepare('UPDATE tasks SET last_progress_at=? WHERE id=?').run(clock.now() - 2_000, 'T');
    expect((await reapScan(deps)).reap).toEqual([]);
    // Seen the same way on two scans in a row: reaped.
    expect((await reapScan(deps)).reap.map((r) => r.taskId)).toEqual(['T']);
  });

  it('a task that records another worker while the scan runs is not reaped on the dead one', async () => {
    const { db, deps, host } = bed();
    const reapScan = makeReapScan();
    expect((await reapScan(deps)).reap).toEqual([]);
    // The relaunch records its worker while the second scan waits on the host.
    host.onProbe = () => db.prepare('UPDATE tasks SET worker_pid=42 WHERE id=?').run('T');
    const out = await reapScan(deps);
    expect(out.reap).toEqual([]);
    expect(out.ledger?.filter((l) => l.kind.startsWith('reaper.'))).toEqual([]);
  });

  it('a task whose worker runAgent attends is left to it, however long; once it stops attending, the reaper takes it after stallMs', async () => {
    const { clock, deps } = bed();
    const watchers = new Map<string, number>([['T', Number.POSITIVE_INFINITY]]);
    const attended = { ...deps, watchers } as EffectDeps;
    const reapScan = makeReapScan();
    for (let i = 0; i < 3; i++) {
      expect((await reapScan(attended)).reap).toEqual([]);
      clock.advance(5_000);
    }
    // runAgent answered (the task leaves `working` a moment later): not a lost worker within stallMs.
    watchers.set('T', clock.now());
    expect((await reapScan(attended)).reap).toEqual([]);
    clock.advance(300);
    expect((await reapScan(attended)).reap).toEqual([]);
    // Still `working` with nobody attending, past stallMs: the two-strike reaper takes it.
    clock.advance(1_000);
    expect((await reapScan(attended)).reap).toEqual([]);
    expect((await reapScan(attended)).reap.map((r) => r.taskId)).toEqual(['T']);
    expect(watchers.has('T')).toBe(false);
  });
});
