/**
 * Storage probes for the benchmarks (bench/): seeding task rows directly, sizing what one persisted
 * transition writes, a bare write of the same size, and the WAL/fsync knobs the write figures compare.
 */
import type { Db } from './db.js';

export interface SeedTask {
  id: string;
  repo: string;
  tier: number;
  title: string;
  description: string;
  status: string;
  seq: number;
}

/** Task rows as the seeder would leave them, in any status, with no snapshot: the engine boots them fresh. */
export function seedTaskRows(db: Db, rows: SeedTask[], now: number): void {
  const ins = db.prepare(
    `INSERT INTO tasks (id, repo, tier, title, description, status, seq, last_progress_at, created_at, updated_at)
     VALUES (@id, @repo, @tier, @title, @description, @status, @seq, @now, @now, @now)`,
  );
  db.transaction(() => {
    for (const row of rows) ins.run({ ...row, now });
  })();
}

/** Bytes one transition of `actor` (task `taskId`) writes: its snapshot, its task row, an average ledger row. */
export function persistedBytes(db: Db, actor: string, taskId: string): number {
  const row = db
    .prepare(
      // The snapshot is on the task row since migration 7 (actor_snapshot for a task without one): the same bytes either way.
      `SELECT COALESCE((SELECT length(actor)+length(machine)+length(status)+length(value)+length(snapshot)+16 FROM actor_snapshot WHERE actor=@a),
                       (SELECT length(@a)+length('task')+length(snap_status)+length(snap_value)+length(snapshot)+16 FROM tasks WHERE id=@id AND snap_status IS NOT NULL), 0)
            + (SELECT length(id)+length(repo)+length(title)+length(description)+length(status)+COALESCE(length(plan),0)+COALESCE(length(reason),0)+8*10 FROM tasks WHERE id=@id)
            + (SELECT CAST(AVG(length(actor)+length(kind)+length(task)+length(payload)+16) AS INTEGER) FROM event WHERE actor=@a) AS bytes`,
    )
    .get({ a: actor, id: taskId }) as { bytes: number };
  return row.bytes;
}

/** A bare write to compare the persister with: one row of `body` in its own IMMEDIATE transaction. */
export function bareBlobWriter(db: Db): (body: string) => void {
  db.exec('CREATE TABLE IF NOT EXISTS bench_blob (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const ins = db.prepare('INSERT INTO bench_blob (body) VALUES (?)');
  const write = db.transaction((body: string) => ins.run(body));
  return (body) => void write.immediate(body);
}

export function setSynchronous(db: Db, mode: 'FULL' | 'NORMAL'): void {
  db.pragma(`synchronous = ${mode}`);
}

/** Bytes of one WAL frame: a page and its 24-byte header. */
export function walFrameBytes(db: Db): number {
  return (db.pragma('page_size', { simple: true }) as number) + 24;
}

export function checkpointTruncate(db: Db): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/** 0 turns automatic checkpoints off (SQLite's default is 1000 pages). */
export function setWalAutocheckpoint(db: Db, pages: number): void {
  db.pragma(`wal_autocheckpoint = ${pages}`);
}

export function countTasksWithWorker(db: Db): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM tasks WHERE worker_pid IS NOT NULL').get() as { n: number }).n;
}
