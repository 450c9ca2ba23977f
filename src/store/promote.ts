/** The promote recipe's ledger rows: `promote.armed`, `promote.started`, `promote.run` (payload field `name`: the recipe). */
import type { Db } from './db.js';

export const PROMOTE_KINDS = ['promote.started', 'promote.run', 'promote.armed'] as const;

export interface PromoteRow {
  id: number;
  at: number;
  kind: (typeof PROMOTE_KINDS)[number];
  actor: string;
  payload: Record<string, unknown>;
}

// The IN list is spelled exactly as in the partial index event_promote, so SQLite uses it.
const PROMOTE_WHERE = "kind IN ('promote.started', 'promote.run', 'promote.armed')";

const parse = (r: { id: number; at: number; kind: PromoteRow['kind']; actor: string; payload: string }): PromoteRow => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> });

/** The newest promote row of one recipe (a run's start or end, or its arming), or undefined before any. */
export function lastPromoteRow(db: Db, name: string): PromoteRow | undefined {
  const row = db
    .prepare(`SELECT id, at, kind, actor, payload FROM event WHERE ${PROMOTE_WHERE} AND json_extract(payload, '$.name') = ? ORDER BY id DESC LIMIT 1`)
    .get(name) as Parameters<typeof parse>[0] | undefined;
  return row && parse(row);
}

/** The id of the newest `task.merged` row (0 before any merge): the after-merge schedule's cursor. */
export function latestMergeId(db: Db): number {
  return (db.prepare("SELECT COALESCE(MAX(id), 0) AS id FROM event WHERE kind = 'task.merged'").get() as { id: number }).id;
}

/** The newest promote rows (every recipe, or one), newest first. */
export function recentPromoteRows(db: Db, limit: number, name?: string): PromoteRow[] {
  const rows = (name === undefined
    ? db.prepare(`SELECT id, at, kind, actor, payload FROM event WHERE ${PROMOTE_WHERE} ORDER BY id DESC LIMIT ?`).all(limit)
    : db.prepare(`SELECT id, at, kind, actor, payload FROM event WHERE ${PROMOTE_WHERE} AND json_extract(payload, '$.name') = ? ORDER BY id DESC LIMIT ?`).all(name, limit)) as Array<Parameters<typeof parse>[0]>;
  return rows.map(parse);
}

/** The first `promote.run` row of one recipe written after row `afterId` (the run a caller asked for), if written yet. */
export function promoteRunAfter(db: Db, name: string, afterId: number): PromoteRow | undefined {
  const row = db
    .prepare(`SELECT id, at, kind, actor, payload FROM event WHERE ${PROMOTE_WHERE} AND id > ? AND kind = 'promote.run' AND json_extract(payload, '$.name') = ? ORDER BY id LIMIT 1`)
    .get(afterId, name) as Parameters<typeof parse>[0] | undefined;
  return row && parse(row);
}

/** One promote row by its ledger id (a run's `promote.started`), if it is one. */
export function promoteRowById(db: Db, id: number): PromoteRow | undefined {
  const row = db.prepare(`SELECT id, at, kind, actor, payload FROM event WHERE id = ? AND ${PROMOTE_WHERE}`).get(id) as Parameters<typeof parse>[0] | undefined;
  return row && parse(row);
}
