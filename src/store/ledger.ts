import type { Db } from './db.js';

export interface LedgerRow {
  id: number;
  at: number;
  actor: string;
  kind: string;
  task: string | null;
  payload: string;
}

export interface LedgerEntry {
  at: number;
  actor: string;
  kind: string;
  task?: string | null;
  payload?: Record<string, unknown>;
}

export function appendEvent(db: Db, e: LedgerEntry): void {
  db.prepare('INSERT INTO event (at, actor, kind, task, payload) VALUES (?, ?, ?, ?, ?)').run(
    e.at,
    e.actor,
    e.kind,
    e.task ?? null,
    JSON.stringify(e.payload ?? {}),
  );
}

export function listEvents(db: Db, filter: { task?: string; afterId?: number; limit?: number; kindPrefix?: string } = {}): LedgerRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.task) {
    where.push('task = ?');
    args.push(filter.task);
  }
  if (filter.afterId !== undefined) {
    where.push('id > ?');
    args.push(filter.afterId);
  }
  if (filter.kindPrefix) {
    where.push('kind LIKE ?');
    args.push(`${filter.kindPrefix}%`);
  }
  const sql = `SELECT * FROM event ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${filter.limit ? 'DESC LIMIT ?' : 'ASC'}`;
  if (filter.limit) args.push(filter.limit);
  const rows = db.prepare(sql).all(...args) as LedgerRow[];
  return filter.limit ? rows.reverse() : rows;
}

export function lastEventId(db: Db): number {
  return (db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM event').get() as { id: number }).id;
}

/** Spend is summed from the day's spend events, not from the tasks touched that day. */
export function spendBetween(db: Db, from: number, to: number): number {
  const row = db
    .prepare(`SELECT COALESCE(SUM(CAST(json_extract(payload, '$.usd') AS REAL)), 0) AS usd FROM event WHERE kind='spend' AND at >= ? AND at < ?`)
    .get(from, to) as { usd: number };
  return row.usd;
}

/**
 * Spend per repository between `from` and `to`: each spend row counts for the repository of the task it names
 * (`tasks.repo`); spend of no task, or of a task no longer stored, is under `''`.
 */
export function spendByRepoBetween(db: Db, from: number, to: number): Record<string, number> {
  const rows = db
    .prepare(
      `SELECT COALESCE(t.repo, '') AS repo, COALESCE(SUM(CAST(json_extract(e.payload, '$.usd') AS REAL)), 0) AS usd
       FROM event e LEFT JOIN tasks t ON t.id = e.task WHERE e.kind='spend' AND e.at >= ? AND e.at < ? GROUP BY 1`,
    )
    .all(from, to) as Array<{ repo: string; usd: number }>;
  return Object.fromEntries(rows.map((r) => [r.repo, r.usd]));
}

/** Start of the UTC day containing `at`. */
export function dayStart(at: number): number {
  return at - (at % 86_400_000);
}
