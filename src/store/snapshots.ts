import type { Db } from './db.js';

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

/** A row's persisted snapshot, whole again: its context is kept in a column of its own. */
export function snapshotOf(row: Pick<SnapshotRow, 'snapshot' | 'context'>): Record<string, unknown> {
  const snapshot = JSON.parse(row.snapshot) as Record<string, unknown>;
  if (row.context !== null && row.context !== undefined) snapshot.context = JSON.parse(row.context);
  return snapshot;
}

export function loadSnapshot(db: Db, actor: string): unknown | undefined {
  const row = db.prepare('SELECT snapshot, context FROM actor_snapshot WHERE actor=?').get(actor) as Pick<SnapshotRow, 'snapshot' | 'context'> | undefined;
  return row ? snapshotOf(row) : undefined;
}

export function getSnapshotRow(db: Db, actor: string): SnapshotRow | undefined {
  return db.prepare('SELECT * FROM actor_snapshot WHERE actor=?').get(actor) as SnapshotRow | undefined;
}

/** Every persisted actor without its snapshot and context (the dashboard's actor list). */
export function listSnapshotHeads(db: Db): Array<Omit<SnapshotRow, 'snapshot' | 'context'>> {
  return db.prepare('SELECT actor, machine, status, value, seq, updated_at FROM actor_snapshot ORDER BY actor').all() as Array<Omit<SnapshotRow, 'snapshot' | 'context'>>;
}

/** The highest snapshot sequence number written so far (0 on an empty database). */
export function maxSnapshotSeq(db: Db): number {
  return (db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM actor_snapshot').get() as { s: number }).s;
}
