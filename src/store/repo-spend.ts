/**
 * Task counts per repository (the `tasks.repo` column): what `oxi status`, the brief and the dashboard
 * show when one engine serves several repositories (spend per repository: spendByRepoBetween in ledger.ts).
 */
import type { Db } from './db.js';

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
