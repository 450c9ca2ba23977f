/**
 * The reads the simulation harness (src/sim: the simulated week and month, the fleet bench) makes of the
 * engine's database to report on a run. Read-only: a report never changes what it reports on.
 */
import type { Db } from './db.js';

export interface SimTaskRow {
  id: string;
  status: string;
  attempt: number;
  created_at: number;
  reason: string | null;
}

export function simTasks(db: Db): SimTaskRow[] {
  return db.prepare('SELECT id, status, attempt, created_at, reason FROM tasks').all() as SimTaskRow[];
}

/** Worker relaunches after an outage (they spend no attempt), per task. */
export function workerOutageCounter(db: Db): (task: string) => number {
  const stmt = db.prepare(`SELECT COUNT(*) AS n FROM event WHERE task = ? AND kind = 'agent.outage' AND json_extract(payload, '$.role') = 'worker'`);
  return (task) => (stmt.get(task) as { n: number }).n;
}

export function spendEvents(db: Db): Array<{ at: number; usd: number }> {
  return db.prepare(`SELECT at, json_extract(payload, '$.usd') AS usd FROM event WHERE kind='spend'`).all() as Array<{ at: number; usd: number }>;
}

/** The first task.* event of `task` after its last review started at or before `at`. */
export function nextTaskEventAfterReview(db: Db): (task: string, at: number) => string | undefined {
  const stmt = db.prepare(
    `SELECT kind FROM event WHERE task = ? AND kind LIKE 'task.%' AND id > (SELECT MAX(id) FROM event WHERE task = ? AND kind = 'task.reviewing' AND at <= ?) ORDER BY id LIMIT 1`,
  );
  return (task, at) => (stmt.get(task, task, at) as { kind: string } | undefined)?.kind;
}

export function countEventsOfKind(db: Db, kind: string): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM event WHERE kind = ?`).get(kind) as { n: number }).n;
}

/** The day's soft-cap warning, the first-slot claims it refused, and what was spent after it, in [from, to). */
export function softCapDay(db: Db, from: number, to: number): { warnedAt: number | null; held: number; afterUsd: number } {
  const warned = db.prepare(`SELECT at FROM event WHERE kind = 'budget.soft_warning' AND at >= ? AND at < ? ORDER BY id LIMIT 1`).get(from, to) as { at: number } | undefined;
  const held = db.prepare(`SELECT COUNT(*) AS n FROM event WHERE kind = 'budget.soft_cap' AND at >= ? AND at < ?`).get(from, to) as { n: number };
  const after = warned ? (db.prepare(`SELECT COALESCE(SUM(json_extract(payload, '$.usd')), 0) AS usd FROM event WHERE kind = 'spend' AND at > ? AND at < ?`).get(warned.at, to) as { usd: number }).usd : 0;
  return { warnedAt: warned?.at ?? null, held: held.n, afterUsd: after };
}

/** Tasks merged, tasks in all, and the database's size in bytes (pages × page size, WAL included). */
export function simDaySample(db: Db): { merged: number; tasks: number; dbBytes: number } {
  const merged = (db.prepare(`SELECT COUNT(*) AS n FROM tasks WHERE status='merged'`).get() as { n: number }).n;
  const tasks = (db.prepare(`SELECT COUNT(*) AS n FROM tasks`).get() as { n: number }).n;
  const page = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  return { merged, tasks, dbBytes: page * pages };
}

/** PRs of tasks left awaiting a human since before `before`. */
export function awaitingHumanPrs(db: Db, before: number): number[] {
  return (db.prepare(`SELECT pr FROM tasks WHERE status='awaiting_human' AND pr IS NOT NULL AND last_progress_at < ?`).all(before) as Array<{ pr: number }>).map((r) => r.pr);
}

/** A task's last 12 ledger rows (oldest first) and its reason. */
export function taskHistory(db: Db, task: string): { rows: Array<{ at: number; kind: string }>; reason: string | null } {
  const rows = (db.prepare('SELECT at, kind FROM event WHERE task = ? ORDER BY id DESC LIMIT 12').all(task) as Array<{ at: number; kind: string }>).reverse();
  const reason = (db.prepare('SELECT reason FROM tasks WHERE id = ?').get(task) as { reason: string | null } | undefined)?.reason ?? null;
  return { rows, reason };
}

/** Durability is the chaos suite's business (real SIGKILLs): a simulation's fsyncs would only slow it down. */
export function skipFsync(db: Db): void {
  db.pragma('synchronous = OFF');
}
