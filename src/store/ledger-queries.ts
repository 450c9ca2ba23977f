/** Questions asked of the ledger (`event` table) by gates, budgets, effects and reports. */
import type { Db } from './db.js';
import type { LedgerRow } from './ledger.js';

export type EventHead = { kind: string; at: number; payload: string };

/** The kinds the partial index event_latch holds, spelled exactly as in its migration (SQLite uses it only on an identical term). */
export const LATCH_KINDS = ['forge.gate_closed', 'forge.gate_opened', 'agent.gate_closed', 'agent.gate_opened', 'dispatch.env_blocked', 'dispatch.env_cleared', 'config.loaded'] as const;
const LATCH_TERM = `kind IN (${LATCH_KINDS.map((k) => `'${k}'`).join(', ')}) AND `;

/** The index's term when every kind asked for is a latch kind: the query reads a few index rows, not the ledger. */
function latchTerm(kinds: readonly string[]): string {
  return kinds.every((k) => (LATCH_KINDS as readonly string[]).includes(k)) ? LATCH_TERM : '';
}

/**
 * The newest row of any of `kinds` — a latch's last word (gate closed/opened). `subject` narrows it
 * to rows whose payload fields equal the given values (`{backend: 'claude'}`).
 */
export function lastEventOfKinds(db: Db, kinds: readonly string[], subject: Record<string, string> = {}): EventHead | undefined {
  const fields = Object.entries(subject);
  const where = fields.map(() => ' AND json_extract(payload, ?) = ?').join('');
  return db
    .prepare(`SELECT kind, at, payload FROM event WHERE ${latchTerm(kinds)}kind IN (${kinds.map(() => '?').join(', ')})${where} ORDER BY id DESC LIMIT 1`)
    .get(...kinds, ...fields.flatMap(([k, v]) => [`$.${k}`, v])) as EventHead | undefined;
}

/** The newest row of any of `kinds` for one task. */
export function lastTaskEventOfKinds(db: Db, task: string, kinds: readonly string[]): EventHead | undefined {
  return db
    .prepare(`SELECT kind, at, payload FROM event WHERE task = ? AND kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY id DESC LIMIT 1`)
    .get(task, ...kinds) as EventHead | undefined;
}

/** The newest row of any of `kinds` per distinct value of the payload field `field`, oldest first. */
export function lastEventPerSubject(db: Db, kinds: readonly string[], field: string): EventHead[] {
  const marks = kinds.map(() => '?').join(', ');
  return db
    .prepare(
      `SELECT e.kind, e.at, e.payload FROM event e
       JOIN (SELECT json_extract(payload, ?) AS b, MAX(id) AS id FROM event WHERE ${latchTerm(kinds)}kind IN (${marks}) GROUP BY b) last ON last.id = e.id
       ORDER BY e.id`,
    )
    .all(`$.${field}`, ...kinds) as EventHead[];
}

/** The distinct values of payload field `field` over every row of `kind` (nulls left out). */
export function payloadValuesOfKind(db: Db, kind: string, field: string): string[] {
  const rows = db.prepare(`SELECT DISTINCT json_extract(payload, ?) AS v FROM event WHERE kind = ?`).all(`$.${field}`, kind) as Array<{ v: string | null }>;
  return rows.flatMap((r) => (r.v === null ? [] : [r.v]));
}

/** Whether a row of `kind` was written at or after `from`. */
export function eventSince(db: Db, kind: string, from: number): boolean {
  return db.prepare(`SELECT 1 FROM event WHERE kind = ? AND at >= ? LIMIT 1`).get(kind, from) !== undefined;
}

/** Whether a row of `kind` whose payload `repo` is `repo` was appended at or after `from` (a once-a-day latch per repository). */
export function repoEventSince(db: Db, kind: string, repo: string, from: number): boolean {
  return db.prepare(`SELECT 1 FROM event WHERE kind = ? AND at >= ? AND json_extract(payload, '$.repo') = ? LIMIT 1`).get(kind, from, repo) !== undefined;
}

/** Whether the task has a row of `kind` (whose payload field equals the value, when `match` is given). */
export function taskHasEvent(db: Db, task: string, kind: string, match?: { field: string; value: string | number }): boolean {
  if (!match) return db.prepare(`SELECT 1 FROM event WHERE task = ? AND kind = ? LIMIT 1`).get(task, kind) !== undefined;
  return db.prepare(`SELECT 1 FROM event WHERE task = ? AND kind = ? AND json_extract(payload, ?) = ? LIMIT 1`).get(task, kind, `$.${match.field}`, match.value) !== undefined;
}

/** Worker outages that moved to the next route for this task (`agent.retryable`: rows of earlier versions). */
export function countWorkerOutages(db: Db, task: string): number {
  const row = db
    .prepare(
      `SELECT COUNT(*) AS n FROM event WHERE task = ? AND json_extract(payload, '$.role') = 'worker'
       AND (kind = 'agent.retryable' OR (kind = 'agent.outage' AND json_extract(payload, '$.fallback') = 1))`,
    )
    .get(task) as { n: number };
  return row.n;
}

/** Rows of `kinds` in [from, to), oldest first. */
export function eventsBetween(db: Db, from: number, to: number, kinds: readonly string[]): LedgerRow[] {
  return db
    .prepare(`SELECT * FROM event WHERE at >= ? AND at < ? AND kind IN (${kinds.map(() => '?').join(',')}) ORDER BY id`)
    .all(from, to, ...kinds) as LedgerRow[];
}

/** One actor's newest `limit` rows, newest first. */
export function recentEventsOfActor(db: Db, actor: string, limit: number): LedgerRow[] {
  return db.prepare('SELECT * FROM event WHERE actor=? ORDER BY id DESC LIMIT ?').all(actor, limit) as LedgerRow[];
}

export function countEventsOfActor(db: Db, actor: string): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM event WHERE actor=?').get(actor) as { n: number }).n;
}

/** A task's review trail: critic verdicts, checks results and spend rows, oldest first. */
export function reviewEventsOfTask(db: Db, taskId: string): LedgerRow[] {
  return db.prepare(`SELECT * FROM event WHERE task = ? AND (kind LIKE 'critic.%' OR kind LIKE 'checks.%' OR kind = 'spend') ORDER BY id`).all(taskId) as LedgerRow[];
}

/** The task transitions (`task.*` rows) of the given tasks, oldest first. */
export function taskTransitions(db: Db, taskIds: readonly string[]): LedgerRow[] {
  if (!taskIds.length) return [];
  return db.prepare(`SELECT * FROM event WHERE kind LIKE 'task.%' AND task IN (${taskIds.map(() => '?').join(',')}) ORDER BY id`).all(...taskIds) as LedgerRow[];
}

/** Tasks with a transition at or after `since`. */
export function tasksMovedSince(db: Db, since: number): string[] {
  return (db.prepare(`SELECT DISTINCT task FROM event WHERE task IS NOT NULL AND at >= ? AND kind LIKE 'task.%'`).all(since) as Array<{ task: string }>).map((r) => r.task);
}

/** Ledger kinds that say something went wrong for a task (the newest one is its "last failure"). */
const FAILURE_KINDS = `kind LIKE '%fail%' OR kind LIKE '%reject%' OR kind LIKE '%error%' OR kind LIKE '%outage%' OR kind IN ('ci.issue', 'task.reaped', 'task.backoff', 'task.abandoned', 'review.changes_requested', 'reaper.reaped')`;

/** The newest row that says something went wrong for a task. */
export function lastFailureOfTask(db: Db, taskId: string): { id: number; at: number; actor: string; kind: string; payload: string } | undefined {
  return db.prepare(`SELECT id, at, actor, kind, payload FROM event WHERE task=? AND (${FAILURE_KINDS}) ORDER BY id DESC LIMIT 1`).get(taskId) as
    | { id: number; at: number; actor: string; kind: string; payload: string }
    | undefined;
}

/** The newest note (not a transition) before row `beforeId` that says something went wrong for a task: what stopped it. */
export function lastFailureNoteBefore(db: Db, taskId: string, beforeId: number): { id: number; at: number; actor: string; kind: string; payload: string } | undefined {
  return db.prepare(`SELECT id, at, actor, kind, payload FROM event WHERE task=? AND id < ? AND kind NOT LIKE 'task.%' AND (${FAILURE_KINDS}) ORDER BY id DESC LIMIT 1`).get(taskId, beforeId) as
    | { id: number; at: number; actor: string; kind: string; payload: string }
    | undefined;
}
