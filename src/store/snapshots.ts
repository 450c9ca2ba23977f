import type { Db } from './db.js';
import { cached } from './db.js';

export interface SnapshotRow {
  actor: string;
  machine: string;
  status: string;
  value: string;
  snapshot: string;
  /** The snapshot's context as JSON, stored apart (see migration 3); null: it is inside `snapshot`. */
  context: string | null;
  seq: number;
  updated_at: number;
}

/*
 * A task actor's snapshot lives on its task row (migration 7: one leaf per transition); every other
 * actor's, and a task's with no row, in actor_snapshot. Readers see one shape, whichever holds it.
 */
const TASK_SNAPSHOT = `SELECT 'task:' || id AS actor, 'task' AS machine, snap_status AS status, snap_value AS value, snapshot,
  snap_context AS context, snap_seq AS seq, snap_at AS updated_at FROM tasks`;

/** A row's persisted snapshot, whole again: its context is kept in a column of its own. */
export function snapshotOf(row: Pick<SnapshotRow, 'snapshot' | 'context'>): Record<string, unknown> {
  const snapshot = JSON.parse(row.snapshot) as Record<string, unknown>;
  if (row.context !== null && row.context !== undefined) snapshot.context = JSON.parse(row.context);
  return snapshot;
}

export function loadSnapshot(db: Db, actor: string): unknown | undefined {
  const row = getSnapshotRow(db, actor);
  return row ? snapshotOf(row) : undefined;
}

export function getSnapshotRow(db: Db, actor: string): SnapshotRow | undefined {
  if (actor.startsWith('task:')) {
    const row = cached(db, `${TASK_SNAPSHOT} WHERE id = ? AND snap_status IS NOT NULL`).get(actor.slice('task:'.length)) as SnapshotRow | undefined;
    if (row) return row;
  }
  return cached(db, 'SELECT * FROM actor_snapshot WHERE actor=?').get(actor) as SnapshotRow | undefined;
}

/** Every persisted actor without its snapshot and context (the dashboard's actor list). */
export function listSnapshotHeads(db: Db): Array<Omit<SnapshotRow, 'snapshot' | 'context'>> {
  return db
    .prepare(
      `SELECT actor, machine, status, value, seq, updated_at FROM actor_snapshot
       WHERE actor NOT IN (SELECT 'task:' || id FROM tasks WHERE snap_status IS NOT NULL)
       UNION ALL
       SELECT 'task:' || id, 'task', snap_status, snap_value, snap_seq, snap_at FROM tasks WHERE snap_status IS NOT NULL
       ORDER BY actor`,
    )
    .all() as Array<Omit<SnapshotRow, 'snapshot' | 'context'>>;
}

/** The highest snapshot sequence number written so far (0 on an empty database). */
export function maxSnapshotSeq(db: Db): number {
  return (db.prepare('SELECT MAX(COALESCE((SELECT MAX(seq) FROM actor_snapshot), 0), COALESCE((SELECT MAX(snap_seq) FROM tasks), 0)) AS s').get() as { s: number }).s;
}
