import type { Db } from './db.js';
import { immediate } from './db.js';

export interface TaskRow {
  id: string;
  repo: string;
  tier: number;
  title: string;
  description: string;
  status: string;
  plan: string | null;
  attempt: number;
  branch: string | null;
  worktree: string | null;
  host: string | null;
  worker_pid: number | null;
  pr: number | null;
  cost_usd: number;
  reason: string | null;
  roadmap_state: 'present' | 'missing';
  seq: number;
  last_progress_at: number;
  last_deferred_at: number | null;
  created_at: number;
  updated_at: number;
  /** The worker's route (`backend/model`), from migration 2. */
  backend?: string | null;
  /** JSON {kind, tool?} of the worker's current activity, from migration 2. */
  activity?: string | null;
  activity_at?: number | null;
}

export const TERMINAL_STATUSES = ['merged', 'abandoned'] as const;

export interface NewTask {
  id: string;
  repo: string;
  tier: number;
  title: string;
  description: string;
  seq: number;
}

/** Inserts roadmap items not yet known (never duplicating a T-id); refreshes the text of queued ones. */
export function ingestItems(db: Db, items: NewTask[], now: number): { added: string[] } {
  const insert = db.prepare(
    `INSERT INTO tasks (id, repo, tier, title, description, status, seq, last_progress_at, created_at, updated_at)
     VALUES (@id, @repo, @tier, @title, @description, 'queued', @seq, @now, @now, @now)
     ON CONFLICT(id) DO NOTHING`,
  );
  const refresh = db.prepare(
    `UPDATE tasks SET title=@title, description=@description, tier=@tier, seq=@seq, roadmap_state='present', updated_at=@now
     WHERE id=@id AND (status='queued' OR roadmap_state='missing')`,
  );
  return immediate(db, () => {
    const added: string[] = [];
    for (const item of items) {
      if (insert.run({ ...item, now }).changes) added.push(item.id);
      else refresh.run({ ...item, now });
    }
    return { added };
  });
}

/** Marks tasks whose item disappeared from the roadmap (they are kept, never deleted). */
export function markMissing(db: Db, repo: string, presentIds: string[], now: number): string[] {
  const present = new Set(presentIds);
  return immediate(db, () => {
    const rows = db.prepare(`SELECT id FROM tasks WHERE repo=? AND roadmap_state='present'`).all(repo) as Array<{ id: string }>;
    const gone = rows.map((r) => r.id).filter((id) => !present.has(id));
    const mark = db.prepare(`UPDATE tasks SET roadmap_state='missing', updated_at=? WHERE id=?`);
    for (const id of gone) mark.run(now, id);
    return gone;
  });
}

export function getTask(db: Db, id: string): TaskRow | undefined {
  return db.prepare('SELECT * FROM tasks WHERE id=?').get(id) as TaskRow | undefined;
}

export function listTasks(db: Db, filter: { status?: string } = {}): TaskRow[] {
  if (filter.status) return db.prepare('SELECT * FROM tasks WHERE status=? ORDER BY tier, seq, id').all(filter.status) as TaskRow[];
  return db.prepare('SELECT * FROM tasks ORDER BY tier, seq, id').all() as TaskRow[];
}

/** Queued tasks still on the roadmap, in tier order then file order. */
export function nextQueued(db: Db, limit: number): TaskRow[] {
  if (limit <= 0) return [];
  return db
    .prepare(`SELECT * FROM tasks WHERE status='queued' AND roadmap_state='present' ORDER BY tier, seq, id LIMIT ?`)
    .all(limit) as TaskRow[];
}

export function countLive(db: Db): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM tasks WHERE status NOT IN ('queued','merged','abandoned')`).get() as { n: number }).n;
}

export function countsByStatus(db: Db): Record<string, number> {
  const rows = db.prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status').all() as Array<{ status: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Agent output is progress: stamped directly, throttled by the caller. Never changes status. */
export function stampProgress(db: Db, id: string, now: number): void {
  db.prepare('UPDATE tasks SET last_progress_at=? WHERE id=? AND last_progress_at < ?').run(now, id, now);
}

export function recordWorker(db: Db, id: string, pid: number | null, host: string, now: number): void {
  db.prepare('UPDATE tasks SET worker_pid=?, host=?, last_progress_at=MAX(last_progress_at, ?) WHERE id=?').run(pid, host, now, id);
}

/**
 * Puts an abandoned task back in the queue (operator retry). Recorded with its ledger row
 * in one transaction, stamping progress like every status change.
 */
export function requeue(db: Db, id: string, now: number, by: string): boolean {
  return immediate(db, () => {
    const row = getTask(db, id);
    if (!row || row.status !== 'abandoned') return false;
    db.prepare(
      `UPDATE tasks SET status='queued', attempt=0, reason=NULL, worker_pid=NULL, last_progress_at=?, updated_at=? WHERE id=?`,
    ).run(now, now, id);
    db.prepare(`DELETE FROM actor_snapshot WHERE actor=?`).run(`task:${id}`);
    db.prepare(`INSERT INTO event (at, actor, kind, task, payload) VALUES (?, ?, 'task.queued', ?, ?)`).run(
      now,
      by,
      id,
      JSON.stringify({ from: 'abandoned', event: 'task.retry' }),
    );
    return true;
  });
}

/**
 * Abandons a task that never started (queued, no actor): its item was closed at the source. Recorded
 * with its ledger row (`task.abandoned`, like a live task's) in one transaction.
 */
export function abandonQueued(db: Db, id: string, reason: string, now: number, by: string): boolean {
  return immediate(db, () => {
    const row = getTask(db, id);
    if (!row || row.status !== 'queued') return false;
    db.prepare(`UPDATE tasks SET status='abandoned', reason=?, last_progress_at=?, updated_at=? WHERE id=?`).run(reason, now, now, id);
    db.prepare(`INSERT INTO event (at, actor, kind, task, payload) VALUES (?, ?, 'task.abandoned', ?, ?)`).run(now, by, id, JSON.stringify({ from: 'queued', event: 'roadmap.closed', reason }));
    return true;
  });
}
