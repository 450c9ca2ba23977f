import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { EFFECT_NAMES } from '../../machines/effects.js';
import { taskMachine } from '../../machines/task.js';
import { ManualClock } from '../../src/clock.js';
import { createPersister } from '../../src/store/persister.js';
import { statusOf } from '../../machines/status.js';
import { openDb, type Db } from '../../src/store/db.js';
import { getSnapshotRow, loadSnapshot } from '../../src/store/snapshots.js';
import { serializeTask, taskEvents, taskInput } from '../helpers/machine-events.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const never = Object.fromEntries(EFFECT_NAMES.map((n) => [n, fromPromise(() => new Promise(() => {}))]));
const flush = () => new Promise((r) => setImmediate(r));

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-persist-'));
  const db = openDb(join(dir, 'oxi.db'), { synchronous: 'OFF' }); // the property is what a commit holds, not its fsync
  cleanups.push(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  db.prepare(`INSERT INTO tasks (id, repo, tier, title, status, seq, last_progress_at, created_at, updated_at) VALUES ('T1', 'r', 0, 'title', 'queued', 0, 0, 0, 0)`).run();
  const clock = new ManualClock(1_000_000);
  const errors: unknown[] = [];
  const persister = createPersister({ db, clock, onError: (e) => errors.push(e) });
  const actor = createActor(taskMachine.provide({ actors: never as never }), { id: 'task:T1', input: taskInput, clock: clock as never, inspect: persister.inspect });
  persister.setRoot(actor);
  actor.start();
  return { db, clock, actor, errors, persister };
}

const row = (db: Db) => db.prepare(`SELECT status, last_progress_at FROM tasks WHERE id='T1'`).get() as { status: string; last_progress_at: number };
const lastEvent = (db: Db) => db.prepare(`SELECT at, kind FROM event WHERE task='T1' ORDER BY id DESC LIMIT 1`).get() as { at: number; kind: string };

describe('persister (contract 3.1)', () => {
  it('every task transition on every path is written with its status, last_progress_at and ledger row, in one transaction', async () => {
    const paths = getShortestPaths(taskMachine, { input: taskInput, events: taskEvents as never, serializeState: serializeTask as never });
    expect(paths.length).toBeGreaterThan(20);
    for (const path of paths) {
      const { db, clock, actor } = setup();
      for (const { event } of path.steps.slice(1)) {
        clock.advance(1000); // distinct stamps per transition
        actor.send(event as never);
        await flush();
        const status = statusOf(actor.getSnapshot().value as never);
        const r = row(db);
        expect(r.status).toBe(status);
        expect(r.last_progress_at).toBe(clock.now());
        // The same commit stamped both: the ledger row carries the very same instant.
        expect(lastEvent(db)).toEqual({ at: r.last_progress_at, kind: `task.${status}` });
        expect(JSON.parse(getSnapshotRow(db, 'task:T1')!.value)).toEqual(actor.getSnapshot().value);
        // The context is written apart and only when it changed; the row still restores the whole snapshot.
        expect(loadSnapshot(db, 'task:T1')).toEqual(JSON.parse(JSON.stringify(actor.getPersistedSnapshot())));
      }
      actor.stop();
      cleanups.splice(0).forEach((f) => f());
    }
  });

  it('a failed write changes nothing (no status without its ledger row) and stops acknowledging', async () => {
    const { db, actor, errors, persister } = setup();
    await flush();
    expect(row(db).status).toBe('planning');
    db.exec(`CREATE TRIGGER fail_ledger BEFORE INSERT ON event WHEN NEW.kind = 'task.waiting' BEGIN SELECT RAISE(ABORT, 'disk full'); END;`);
    actor.send({ type: 'xstate.done.actor.plan', output: { ok: true, plan: { files_touched: ['a'], tests: [], dependencies: [], risk: 'low' }, costUsd: 0 } } as never);
    await flush();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/disk full/);
    expect(row(db).status).toBe('planning');
    expect(JSON.parse(getSnapshotRow(db, 'task:T1')!.value)).toEqual({ live: 'planning' });
    expect(persister.paused).toBe(true);
  });

  it('restores a task into the same state from its own row', async () => {
    const { db, actor } = setup();
    const steps = [
      { type: 'xstate.done.actor.plan', output: { ok: true, plan: { files_touched: ['a'], tests: [], dependencies: [], risk: 'low' }, costUsd: 0.5 } },
      { type: 'xstate.done.actor.claimSlot', output: { granted: true, host: 'local' } },
      { type: 'xstate.done.actor.provision', output: { branch: 'oxi/t1', worktree: '/w' } },
    ];
    for (const e of steps) actor.send(e as never);
    await flush();
    const restored = createActor(taskMachine.provide({ actors: never as never }), { snapshot: loadSnapshot(db, 'task:T1'), clock: new ManualClock() } as never);
    restored.start();
    expect(restored.getSnapshot().value).toEqual({ live: 'working' });
    expect(restored.getSnapshot().context).toEqual(actor.getSnapshot().context);
    expect(Object.keys(restored.getSnapshot().children).sort()).toEqual(['kill', 'runAgent']);
  });

  it('writes the context only when it changed: a kill and a resume leave it as it was', async () => {
    const { db, actor } = setup();
    await flush();
    const context = () => (db.prepare(`SELECT snap_context AS context FROM tasks WHERE id='T1'`).get() as { context: string }).context;
    // Re-indent the stored context: the same value, other text. Only a rewrite would make it compact again.
    const spaced = JSON.stringify(JSON.parse(context()), null, 2);
    db.prepare(`UPDATE tasks SET snap_context=? WHERE id='T1'`).run(spaced);
    actor.send({ type: 'engine.killed', reason: 'test', hard: false } as never);
    await flush();
    actor.send({ type: 'engine.resumed' } as never);
    await flush();
    expect(row(db).status).toBe('planning');
    expect(context()).toBe(spaced);
    actor.send({ type: 'xstate.done.actor.plan', output: { ok: true, plan: { files_touched: ['a'], tests: [], dependencies: [], risk: 'low' }, costUsd: 0.25 } } as never);
    await flush();
    expect(context()).toBe(JSON.stringify(JSON.parse(context())));
    expect(JSON.parse(context()).costUsd).toBe(0.25);
  });

  it('reads a row written before the context had its own column', async () => {
    const { db, actor } = setup();
    await flush();
    const whole = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    db.prepare(`UPDATE tasks SET snapshot=?, snap_context=NULL WHERE id='T1'`).run(JSON.stringify(whole));
    expect(loadSnapshot(db, 'task:T1')).toEqual(whole);
  });

  it('writes a task snapshot on its task row, in the same row as status and last_progress_at', async () => {
    const { db, actor } = setup();
    await flush();
    const r = db.prepare(`SELECT status, snap_value, snap_at, last_progress_at FROM tasks WHERE id='T1'`).get() as { status: string; snap_value: string; snap_at: number; last_progress_at: number };
    expect(r.status).toBe('planning');
    expect(JSON.parse(r.snap_value)).toEqual(actor.getSnapshot().value);
    expect(r.snap_at).toBe(r.last_progress_at);
    expect(db.prepare(`SELECT COUNT(*) AS n FROM actor_snapshot WHERE actor='task:T1'`).get()).toEqual({ n: 0 });
  });

  it('keeps the snapshot of a task actor that has no task row in actor_snapshot', async () => {
    const { db, clock, persister } = setup();
    const orphan = createActor(taskMachine.provide({ actors: never as never }), { id: 'task:T9', input: { ...taskInput, id: 'T9' }, clock: clock as never, inspect: persister.inspect });
    persister.setRoot(orphan);
    orphan.start();
    await flush();
    expect(JSON.parse(getSnapshotRow(db, 'task:T9')!.value)).toEqual(orphan.getSnapshot().value);
    expect(db.prepare(`SELECT machine FROM actor_snapshot WHERE actor='task:T9'`).get()).toEqual({ machine: 'task' });
    orphan.stop();
  });
});
