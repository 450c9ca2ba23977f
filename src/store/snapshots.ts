import type { Db } from './db.js';

export interface SnapshotRow {
  actor: string;
  machine: string;
  status: string;
  value: string;
  snapshot: string;
  seq: number;
  updated_at: number;
}

export function loadSnapshot(db: Db, actor: string): unknown | undefined {
  const row = db.prepare('SELECT snapshot FROM actor_snapshot WHERE actor=?').get(actor) as { snapshot: string } | undefined;
  return row ? JSON.parse(row.snapshot) : undefined;
}

export function listSnapshots(db: Db): SnapshotRow[] {
  return db.prepare('SELECT * FROM actor_snapshot ORDER BY actor').all() as SnapshotRow[];
}
