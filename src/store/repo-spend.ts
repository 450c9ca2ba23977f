/**
 * Spend and task counts per repository (the `tasks.repo` column): what `oxi status`, the brief and
 * the dashboard show when one engine serves several repositories.
 */
import type { Db } from './db.js';

/** Spend summed per repository from the window's spend events (by the task each names); spend of no stored task is under "". */
export function spendByRepo(db: Db, from: number, to: number): Record<string, number> {
  const rows = db
    .prepare(
      `SELECT COALESCE(t.repo, '') AS repo, COALESCE(SUM(CAST(json_extract(e.payload, '$.usd') AS REAL)), 0) AS usd
       FROM event e LEFT JOIN tasks t ON t.id = COALESCE(e.task, json_extract(e.payload, '$.task'))
       WHERE e.kind = 'spend' AND e.at >= ? AND e.at < ?
       GROUP BY 1 ORDER BY 1`,
    )
    .all(from, to) as Array<{ repo: string; usd: number }>;
  return Object.fromEntries(rows.map((r) => [r.repo, r.usd]));
}

/** Task counts per repository and status. */
export function countsByRepo(db: Db): Record<string, Record<string, number>> {
  const rows = db.prepare('SELECT repo, status, COUNT(*) AS n FROM tasks GROUP BY repo, status ORDER BY repo, status').all() as Array<{ repo: string; status: string; n: number }>;
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) (out[r.repo] ??= {})[r.status] = r.n;
  return out;
}

/** The repositories that have tasks in this database, sorted. */
export function reposWithTasks(db: Db): string[] {
  return (db.prepare('SELECT DISTINCT repo FROM tasks ORDER BY repo').all() as Array<{ repo: string }>).map((r) => r.repo);
}
