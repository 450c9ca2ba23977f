/**
 * Retention: the janitor moves old ledger rows and the snapshots of long-finished tasks out of the
 * live database into monthly archive databases (`<dir>/oxi-archive-YYYY-MM.db`), so the database
 * stays the size of the recent past. Nothing is deleted before it is committed in its archive; a
 * crash in between leaves rows in both, and the next run archives them again (ignored) and deletes.
 *
 * Kept whatever their age: every row of a task that is not finished (merged or abandoned), and the
 * newest task-less row of each kind per subject (backend or host), which gates and latches read as
 * their last word (a forge gate closed long ago, the config last loaded).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { mkdirPrivate, touchPrivate } from '../fs-private.js';
import type { Db } from './db.js';
import { immediate } from './db.js';
import type { LedgerRow } from './ledger.js';

export interface RetentionPolicy {
  /** Ledger rows older than this many days are archived (see above for what is kept). */
  ledgerDays: number;
  /** Snapshots of tasks finished longer ago than this many days are archived. */
  terminalSnapshotDays: number;
}

export interface CompactReport {
  ledgerRows: number;
  snapshots: number;
  /** Archive files written to, in the order first touched. */
  archives: string[];
  /** The run stopped at its row budget: more is left for the next one. */
  more: boolean;
}

const DAY = 86_400_000;
const BATCH = 2000;
const FINISHED = `('merged', 'abandoned')`;

/** One archived snapshot: the task row's snapshot columns (or an older actor_snapshot row), with the task's status. */
interface SnapshotOut {
  task: string;
  seq: number | null;
  task_status: string;
  status: string;
  value: string;
  snapshot: string;
  context: string | null;
  at: number | null;
  source: 'tasks' | 'actor_snapshot';
}

export function archiveFileFor(dir: string, at: number): string {
  return join(dir, `oxi-archive-${new Date(at).toISOString().slice(0, 7)}.db`);
}

/** Opens (creating, mode 600) one month's archive: a plain SQLite file any sqlite3 can read. */
export function openArchive(file: string): Database.Database {
  touchPrivate(file);
  const a = new Database(file);
  a.pragma('synchronous = FULL');
  a.exec(`
    CREATE TABLE IF NOT EXISTS event (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
      task TEXT, payload TEXT NOT NULL, archived_at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS event_task ON event(task, id);
    CREATE TABLE IF NOT EXISTS task_snapshot (task TEXT NOT NULL, seq INTEGER NOT NULL, task_status TEXT NOT NULL, status TEXT NOT NULL,
      value TEXT NOT NULL, snapshot TEXT NOT NULL, context TEXT, at INTEGER, archived_at INTEGER NOT NULL, PRIMARY KEY (task, seq));
  `);
  return a;
}

/** Writes rows into their month's archive, one committed transaction per file; returns the files touched. */
function archive<T>(dir: string, rows: T[], atOf: (r: T) => number, write: (a: Database.Database, rows: T[]) => void): string[] {
  const byFile = new Map<string, T[]>();
  for (const r of rows) {
    const file = archiveFileFor(dir, atOf(r));
    byFile.set(file, [...(byFile.get(file) ?? []), r]);
  }
  for (const [file, part] of byFile) {
    const a = openArchive(file);
    try {
      a.transaction(() => write(a, part))();
    } finally {
      a.close();
    }
  }
  return [...byFile.keys()];
}

/** Ids of the newest task-less row of each kind per subject: a latch's last word, never archived. */
function latchIds(db: Db): number[] {
  const rows = db
    .prepare(
      `SELECT MAX(id) AS id FROM event WHERE task IS NULL
       GROUP BY kind, COALESCE(json_extract(payload, '$.backend'), json_extract(payload, '$.host'), '')`,
    )
    .all() as Array<{ id: number }>;
  return rows.map((r) => r.id);
}

/** The first ledger row (in id order) written at or after `cutoff`; rows before it are the old ones. */
function firstRecentId(db: Db, cutoff: number): number {
  const row = db.prepare('SELECT id FROM event WHERE at >= ? ORDER BY id LIMIT 1').get(cutoff) as { id: number } | undefined;
  return row ? row.id : (db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM event').get() as { id: number }).id;
}

function compactLedger(db: Db, dir: string, cutoff: number, now: number, archives: Set<string>, budget: number): number {
  const bound = firstRecentId(db, cutoff);
  const keep = JSON.stringify(latchIds(db));
  const select = db.prepare(
    `SELECT e.* FROM event e WHERE e.id > ? AND e.id < ? AND e.at < ?
       AND (e.task IS NULL OR NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = e.task AND t.status NOT IN ${FINISHED}))
       AND e.id NOT IN (SELECT value FROM json_each(?))
     ORDER BY e.id LIMIT ${BATCH}`,
  );
  const del = db.prepare('DELETE FROM event WHERE id = ?');
  let after = 0;
  let moved = 0;
  while (moved < budget) {
    const rows = select.all(after, bound, cutoff, keep) as LedgerRow[];
    if (!rows.length) return moved;
    for (const f of archive(dir, rows, (r) => r.at, (a, part) => {
      const ins = a.prepare('INSERT OR IGNORE INTO event (id, at, actor, kind, task, payload, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const r of part) ins.run(r.id, r.at, r.actor, r.kind, r.task, r.payload, now);
    })) archives.add(f);
    // Only now, with every row committed in its archive, do they leave the live database.
    immediate(db, () => {
      for (const r of rows) del.run(r.id);
    });
    moved += rows.length;
    after = rows[rows.length - 1].id;
  }
  return moved;
}

function compactSnapshots(db: Db, dir: string, cutoff: number, now: number, archives: Set<string>): number {
  const select = db.prepare(
    `SELECT id AS task, snap_seq AS seq, status AS task_status, snap_status AS status, snap_value AS value, snapshot, snap_context AS context,
            snap_at AS at, 'tasks' AS source
       FROM tasks WHERE status IN ${FINISHED} AND snap_status IS NOT NULL AND last_progress_at < @cutoff
     UNION ALL
     SELECT t.id, s.seq, t.status, s.status, s.value, s.snapshot, s.context, s.updated_at, 'actor_snapshot'
       FROM actor_snapshot s JOIN tasks t ON s.actor = 'task:' || t.id WHERE t.status IN ${FINISHED} AND t.last_progress_at < @cutoff
     LIMIT ${BATCH}`,
  );
  // Guarded by status and seq: a task requeued (or written) since it was read keeps its snapshot.
  const clearRow = db.prepare(
    `UPDATE tasks SET snap_status=NULL, snap_value=NULL, snap_seq=NULL, snap_at=NULL, snapshot=NULL, snap_context=NULL
     WHERE id = ? AND status IN ${FINISHED} AND snap_seq IS ?`,
  );
  const dropRow = db.prepare(`DELETE FROM actor_snapshot WHERE actor = ? AND seq IS ?`);
  let moved = 0;
  for (;;) {
    const rows = select.all({ cutoff }) as SnapshotOut[];
    if (!rows.length) return moved;
    for (const f of archive(dir, rows, (r) => r.at ?? now, (a, part) => {
      const ins = a.prepare(
        `INSERT OR IGNORE INTO task_snapshot (task, seq, task_status, status, value, snapshot, context, at, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const r of part) ins.run(r.task, r.seq ?? 0, r.task_status, r.status, r.value, r.snapshot, r.context, r.at, now);
    })) archives.add(f);
    let cleared = 0;
    immediate(db, () => {
      for (const r of rows) cleared += (r.source === 'tasks' ? clearRow.run(r.task, r.seq) : dropRow.run(`task:${r.task}`, r.seq)).changes;
    });
    moved += cleared;
    // Rows changed under us are left alone; stop rather than read them again and again.
    if (cleared === 0) return moved;
  }
}

/**
 * Archives, then removes, what the policy says is old. Idempotent: run it as often as you like. At most
 * about `maxRows` ledger rows per run (the caller's event loop waits while it runs): `more` says to come back.
 */
export function compactStore(db: Db, options: { dir: string; policy: RetentionPolicy; now: number; maxRows?: number }): CompactReport {
  const { dir, policy, now } = options;
  const budget = options.maxRows ?? 20_000;
  mkdirPrivate(dir);
  const archives = new Set<string>();
  const ledgerRows = compactLedger(db, dir, now - policy.ledgerDays * DAY, now, archives, budget);
  const snapshots = compactSnapshots(db, dir, now - policy.terminalSnapshotDays * DAY, now, archives);
  return { ledgerRows, snapshots, archives: [...archives], more: ledgerRows >= budget };
}

/** Size of the live database: pages in use and free (freed pages are reused before the file grows). */
export function storeSize(db: Db): { bytes: number; pages: number; freePages: number } {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const freePages = db.pragma('freelist_count', { simple: true }) as number;
  return { bytes: pages * pageSize, pages, freePages };
}

/** Rewrites the database without its free pages (an operator's offline step: it holds the write lock throughout). */
export function vacuumStore(db: Db): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('VACUUM');
}

/** Rows an archive holds, for a reader (the operator, a report): ledger rows of one task or all, oldest first. */
export function readArchivedEvents(file: string, filter: { task?: string } = {}): LedgerRow[] {
  const a = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const cols = 'id, at, actor, kind, task, payload';
    if (filter.task) return a.prepare(`SELECT ${cols} FROM event WHERE task = ? ORDER BY id`).all(filter.task) as LedgerRow[];
    return a.prepare(`SELECT ${cols} FROM event ORDER BY id`).all() as LedgerRow[];
  } finally {
    a.close();
  }
}

export function readArchivedSnapshots(file: string): Array<{ task: string; seq: number; task_status: string; value: string; snapshot: string; context: string | null }> {
  const a = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return a.prepare('SELECT task, seq, task_status, value, snapshot, context FROM task_snapshot ORDER BY task, seq').all() as never;
  } finally {
    a.close();
  }
}
