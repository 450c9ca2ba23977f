import type { Db } from './db.js';
import { cached, immediate } from './db.js';
import { LIVE_TASK_STATUSES } from '../../machines/status.js';

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

/** A task row's own columns: the task actor's snapshot, stored on the same row (migration 7), is read through snapshots.ts. */
const TASK_COLUMNS = `id, repo, tier, title, description, status, plan, attempt, branch, worktree, host, worker_pid, pr, cost_usd, reason,
  roadmap_state, seq, last_progress_at, last_deferred_at, created_at, updated_at, backend, activity, activity_at`;

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
  return cached(db, `SELECT ${TASK_COLUMNS} FROM tasks WHERE id=?`).get(id) as TaskRow | undefined;
}

export function listTasks(db: Db, filter: { status?: string } = {}): TaskRow[] {
  if (filter.status) return db.prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE status=? ORDER BY tier, seq, id`).all(filter.status) as TaskRow[];
  return db.prepare(`SELECT ${TASK_COLUMNS} FROM tasks ORDER BY tier, seq, id`).all() as TaskRow[];
}

/** Queued tasks still on the roadmap, in tier order then file order. */
export function nextQueued(db: Db, limit: number, skipRepos: readonly string[] = []): TaskRow[] {
  if (limit <= 0) return [];
  // Repositories past their own daily soft cap (`repos[].budget`) start none of their tasks.
  const skip = skipRepos.length ? ` AND repo NOT IN (${marks(skipRepos)})` : '';
  return db
    .prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE status='queued' AND roadmap_state='present'${skip} ORDER BY tier, seq, id LIMIT ?`)
    .all(...skipRepos, limit) as TaskRow[];
}

/** Tasks whose machine runs (neither queued nor finished). */
export function countLive(db: Db): number {
  return countInStatuses(db, LIVE_TASK_STATUSES).n;
}

/** How many tasks are in `statuses`, and the newest progress stamp among them (null: none). */
export function countInStatuses(db: Db, statuses: readonly string[]): { n: number; last: number | null } {
  return db.prepare(`SELECT COUNT(*) AS n, MAX(last_progress_at) AS last FROM tasks WHERE status IN (${marks(statuses)})`).get(...statuses) as { n: number; last: number | null };
}

/** A task's place in dispatch order: its tier, then its roadmap position. */
export function taskRank(db: Db, id: string): { tier: number; seq: number } | undefined {
  return cached(db, 'SELECT tier, seq FROM tasks WHERE id = ?').get(id) as { tier: number; seq: number } | undefined;
}

/** Tasks in `statuses` ranked before `rank` (tier, then seq), `id` itself aside. */
export function tasksRankedBefore(db: Db, statuses: readonly string[], rank: { tier: number; seq: number }, id: string): string[] {
  const rows = cached(db, `SELECT id FROM tasks WHERE status IN (${marks(statuses)}) AND (tier < ? OR (tier = ? AND seq < ?)) AND id <> ?`)
    .all(...statuses, rank.tier, rank.tier, rank.seq, id) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}

export function countTasks(db: Db, filter: { status?: string } = {}): number {
  if (filter.status) return (db.prepare('SELECT COUNT(*) AS n FROM tasks WHERE status=?').get(filter.status) as { n: number }).n;
  return (db.prepare('SELECT COUNT(*) AS n FROM tasks').get() as { n: number }).n;
}

function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
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
    // Its snapshot goes (on the row since migration 7; actor_snapshot for older rows): the task boots afresh.
    db.prepare(`UPDATE tasks SET snap_status=NULL, snap_value=NULL, snap_seq=NULL, snap_at=NULL, snapshot=NULL, snap_context=NULL WHERE id=?`).run(id);
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

/** Finished tasks (merged, abandoned) last updated before `before` that still name a workspace or a branch: the janitor's work. */
export function finishedWithLeftovers(db: Db, before: number): Array<{ id: string; repo: string; status: string; updated_at: number; branch: string | null; worktree: string | null; host: string | null }> {
  return db
    .prepare(`SELECT id, repo, status, updated_at, branch, worktree, host FROM tasks WHERE status IN ('merged','abandoned') AND (worktree IS NOT NULL OR branch IS NOT NULL) AND updated_at < ? ORDER BY updated_at, id`)
    .all(before) as Array<{ id: string; repo: string; status: string; updated_at: number; branch: string | null; worktree: string | null; host: string | null }>;
}

/** The janitor removed them: the row names no workspace or branch any more (only while the task is still as read: a retry since keeps its own). */
export function forgetLeftovers(db: Db, id: string, status: string, updatedAt: number): void {
  db.prepare('UPDATE tasks SET worktree = NULL, branch = NULL WHERE id = ? AND status = ? AND updated_at = ?').run(id, status, updatedAt);
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
