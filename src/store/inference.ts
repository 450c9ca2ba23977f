/**
 * The inference gateway's rows: a call's spend (and its undercount, when the endpoint reported no cost),
 * and the stuck-task summaries (`task.triage`) written on the event that stopped a task.
 */
import type { Db } from './db.js';
import { immediate } from './db.js';
import { appendEvent, type LedgerEntry } from './ledger.js';

/** The rows of one call (spend, undercount), in one transaction: a crash never keeps half of them. */
export function recordInferenceRows(db: Db, rows: LedgerEntry[]): void {
  if (rows.length) immediate(db, () => rows.forEach((r) => appendEvent(db, r)));
}

/** A stop (abandoned, awaiting_human) that has no summary yet: the event id the summary is written on. */
export interface PendingTriage {
  task: string;
  status: string;
  event: number;
  at: number;
}

const TRIAGED_STATUSES = "('abandoned','awaiting_human')";

/**
 * Tasks stopped in abandoned / awaiting_human (their latest entering row, at or after `since`; a return from
 * `held` after a kill and resume is the same stop, not a new one) with no
 * `task.triage` or `task.triage_missed` row on that event (`_missed`, not `_failed`: the task's last-failure
 * lookups match `%fail%`, and a summary that could not be had is no failure of the task): the ledger is the latch, so a restart finds
 * exactly the summaries still owed, and a recorded one is never asked for twice.
 */
export function pendingTriage(db: Db, since: number): PendingTriage[] {
  return db
    .prepare(
      `SELECT t.id AS task, t.status AS status, e.id AS event, e.at AS at
         FROM tasks t
         JOIN event e ON e.id = (SELECT MAX(id) FROM event WHERE task = t.id AND kind = 'task.' || t.status
                                   AND json_extract(payload, '$.from') IS NOT 'held')
        WHERE t.status IN ${TRIAGED_STATUSES} AND e.at >= ?
          AND NOT EXISTS (SELECT 1 FROM event x WHERE x.task = t.id AND x.kind IN ('task.triage', 'task.triage_missed')
                          AND x.id > e.id AND json_extract(x.payload, '$.event') = e.id)
        ORDER BY e.id`,
    )
    .all(since) as PendingTriage[];
}

export interface TriageRow {
  task: string;
  at: number;
  /** The stop it explains (`task.abandoned` / `task.awaiting_human` row id) and the status entered there. */
  event: number;
  status: string;
  summary: string;
  model: string | null;
}

/** The newest summary of each task (all tasks, or those named). */
export function latestTriage(db: Db, taskIds?: readonly string[]): Map<string, TriageRow> {
  const filter = taskIds ? `AND task IN (${taskIds.map(() => '?').join(',')})` : '';
  if (taskIds && !taskIds.length) return new Map();
  const rows = db
    .prepare(
      `SELECT task, at, payload FROM event WHERE kind = 'task.triage' ${filter}
          AND id IN (SELECT MAX(id) FROM event WHERE kind = 'task.triage' AND task IS NOT NULL GROUP BY task)`,
    )
    .all(...(taskIds ?? [])) as Array<{ task: string; at: number; payload: string }>;
  const out = new Map<string, TriageRow>();
  for (const r of rows) {
    const p = JSON.parse(r.payload) as { event?: number; status?: string; summary?: string; model?: string };
    if (typeof p.summary !== 'string') continue;
    out.set(r.task, { task: r.task, at: r.at, event: p.event ?? 0, status: p.status ?? '', summary: p.summary, model: p.model ?? null });
  }
  return out;
}

/** The summary of the stop a task is in now (none once it moved on: a retried task's old summary is history). */
export function currentTriage(rows: Map<string, TriageRow>, task: { id: string; status: string }): string | undefined {
  const row = rows.get(task.id);
  return row && row.status === task.status ? row.summary : undefined;
}
