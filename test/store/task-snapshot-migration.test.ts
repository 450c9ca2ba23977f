/** The migration that moves task snapshots onto their task rows keeps every row, and a task restores from it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { restoreList } from '../../actors/effects/background.js';
import { EFFECT_NAMES } from '../../machines/effects.js';
import { taskMachine } from '../../machines/task.js';
import { ManualClock } from '../../src/clock.js';
import { openDb } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { createPersister } from '../../src/store/persister.js';
import { getSnapshotRow, listSnapshotHeads, loadSnapshot, maxSnapshotSeq } from '../../src/store/snapshots.js';
import { getTask, listTasks, requeue } from '../../src/store/tasks.js';
import { listEvents } from '../../src/store/ledger.js';
import { taskInput } from '../helpers/machine-events.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));
const never = Object.fromEntries(EFFECT_NAMES.map((n) => [n, fromPromise(() => new Promise(() => {}))]));
const flush = () => new Promise((r) => setImmediate(r));
const PLAN = { files_touched: ['a'], tests: [], dependencies: [], risk: 'low' };

/** Where the schema stood before the snapshot moved: every migration before the one adding `snap_status`. */
const OLD_LENGTH = migrations.findIndex((m) => m.includes('ADD COLUMN snap_status'));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-migrate-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A database at the old schema, written by the persister of that time: task snapshots in actor_snapshot. */
async function oldDatabase(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (let v = 0; v < OLD_LENGTH; v++) db.exec(migrations[v]);
  db.pragma(`user_version = ${OLD_LENGTH}`);
  const insertTask = db.prepare(`INSERT INTO tasks (id, repo, tier, title, status, seq, last_progress_at, created_at, updated_at) VALUES (?, 'r', 0, ?, ?, ?, 5, 1, 5)`);
  // T1 mid-flight (working, from a real task machine), T2 merged, T3 queued without a snapshot.
  insertTask.run('T1', 'one', 'working', 0);
  insertTask.run('T2', 'two', 'merged', 1);
  insertTask.run('T3', 'three', 'queued', 2);
  const clock = new ManualClock(1_000_000);
  const actor = createActor(taskMachine.provide({ actors: never as never }), { id: 'task:T1', input: taskInput, clock: clock as never });
  actor.start();
  for (const e of [
    { type: 'xstate.done.actor.plan', output: { ok: true, plan: PLAN, costUsd: 0.5 } },
    { type: 'xstate.done.actor.claimSlot', output: { granted: true, host: 'local' } },
    { type: 'xstate.done.actor.provision', output: { branch: 'oxi/t1', worktree: '/w' } },
  ]) actor.send(e as never);
  const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as Record<string, unknown>;
  actor.stop();
  const { context, ...rest } = persisted;
  const snap = db.prepare(`INSERT INTO actor_snapshot (actor, machine, status, value, snapshot, context, seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  snap.run('task:T1', 'task', 'active', JSON.stringify({ live: 'working' }), JSON.stringify(rest), JSON.stringify(context), 7, 900);
  snap.run('task:T2', 'task', 'done', '"merged"', JSON.stringify({ status: 'done', value: 'merged', children: {} }), null, 8, 901);
  snap.run('host:local', 'host', 'active', '"up"', JSON.stringify({ value: 'up', context: { capacity: 3 } }), null, 9, 902);
  snap.run('task:GONE', 'task', 'active', '"held"', JSON.stringify({ value: 'held', context: {} }), null, 3, 903); // a task with no row
  const ev = db.prepare(`INSERT INTO event (at, actor, kind, task, payload) VALUES (?, ?, ?, ?, '{}')`);
  for (let i = 0; i < 50; i++) ev.run(i, 'task:T1', `task.s${i}`, 'T1');
  ev.run(60, 'engine', 'engine.started', null);
  const before = {
    tasks: db.prepare('SELECT id, repo, tier, title, status, seq, last_progress_at, created_at, updated_at FROM tasks ORDER BY id').all(),
    events: db.prepare('SELECT * FROM event ORDER BY id').all(),
    snapshots: db.prepare('SELECT actor, machine, status, value, snapshot, context, seq, updated_at FROM actor_snapshot ORDER BY actor').all() as Array<Record<string, unknown>>,
  };
  db.close();
  return { before, persisted };
}

describe('migration: task snapshots on their task rows', () => {
  it('finds the migration it tests', () => {
    expect(OLD_LENGTH).toBeGreaterThan(0);
    expect(OLD_LENGTH).toBeLessThan(migrations.length);
  });

  it('keeps every task, ledger and snapshot row, and a task restores into the same state', async () => {
    const file = join(tempDir(), 'oxi.db');
    const { before, persisted } = await oldDatabase(file);
    const db = openDb(file, { synchronous: 'OFF' });
    cleanups.unshift(() => db.close());
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.prepare('SELECT id, repo, tier, title, status, seq, last_progress_at, created_at, updated_at FROM tasks ORDER BY id').all()).toEqual(before.tasks);
    expect(listEvents(db)).toEqual(before.events);
    // Every snapshot reads back as it was, wherever it now lives.
    for (const s of before.snapshots) expect(getSnapshotRow(db, s.actor as string)).toEqual(s);
    expect(listSnapshotHeads(db).map((h) => h.actor)).toEqual(before.snapshots.map((s) => s.actor));
    expect(maxSnapshotSeq(db)).toBe(9);
    // Task snapshots moved; the host's and the row-less task's stayed.
    expect(db.prepare(`SELECT actor FROM actor_snapshot ORDER BY actor`).all()).toEqual([{ actor: 'host:local' }, { actor: 'task:GONE' }]);
    expect(getTask(db, 'T1')).not.toHaveProperty('snapshot');
    expect(getSnapshotRow(db, 'task:T3')).toBeUndefined();
    // The boot list restores T1 from its row, into the state it was in.
    const boot = restoreList({ db });
    expect(boot.map((b) => b.id)).toEqual(['T1']);
    expect(boot[0].restore).toEqual(persisted);
    const restored = createActor(taskMachine.provide({ actors: never as never }), { snapshot: boot[0].restore, clock: new ManualClock() } as never);
    restored.start();
    expect(restored.getSnapshot().value).toEqual({ live: 'working' });
    expect(restored.getSnapshot().context).toEqual((persisted as { context: unknown }).context);
    restored.stop();
    // A backup of the old file was kept before migrating.
    const backup = new Database(`${file}.backup`, { readonly: true });
    expect(backup.pragma('user_version', { simple: true })).toBe(OLD_LENGTH);
    backup.close();
  });

  it('a restored task goes on writing its row; a requeue clears its snapshot', async () => {
    const file = join(tempDir(), 'oxi.db');
    await oldDatabase(file);
    const db = openDb(file, { synchronous: 'OFF' });
    cleanups.unshift(() => db.close());
    const clock = new ManualClock(2_000_000);
    const persister = createPersister({ db, clock });
    persister.primeStatus('task:T1', 'working');
    const actor = createActor(taskMachine.provide({ actors: never as never }), { id: 'task:T1', snapshot: loadSnapshot(db, 'task:T1'), clock: clock as never, inspect: persister.inspect } as never);
    persister.setRoot(actor);
    actor.start();
    actor.send({ type: 'engine.killed', reason: 'test', hard: false } as never);
    await flush();
    expect(getTask(db, 'T1')).toMatchObject({ status: 'held', last_progress_at: 2_000_000 });
    expect(getSnapshotRow(db, 'task:T1')).toMatchObject({ status: 'active', updated_at: 2_000_000 });
    expect(getSnapshotRow(db, 'task:T1')!.seq).toBeGreaterThan(9);
    actor.stop();
    db.prepare(`UPDATE tasks SET status='abandoned' WHERE id='T1'`).run();
    expect(requeue(db, 'T1', 3_000_000, 'test')).toBe(true);
    expect(getSnapshotRow(db, 'task:T1')).toBeUndefined();
    expect(listTasks(db).find((t) => t.id === 'T1')?.status).toBe('queued');
  });
});
