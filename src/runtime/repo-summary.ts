/**
 * Each repository's share of one engine: its task counts and today's spend (with its own cap when
 * the adapter sets one). `oxi status`, the snapshot API and the brief show it when there are several.
 */
import type { Adapter } from '../config/schema.js';
import type { Db } from '../store/db.js';
import { dayStart, spendByRepoBetween } from '../store/ledger.js';
import { countsByRepo, reposWithTasks } from '../store/repo-spend.js';
import { isMultiRepo, repoNames, repoViews } from '../config/repos.js';

export interface RepoSummary {
  name: string;
  counts: Record<string, number>;
  /** Spend of this repository's tasks since the start of the UTC day. */
  todayUsd: number;
  /** The repository's daily hard cap in multi-repo mode (its own, or the global one), null in single-repo mode. */
  dailyHardUsd: number | null;
}

/** The repositories `--repo` accepts: the adapter's, then any a database row still names (one since removed from the config). */
export function knownRepos(adapter: Adapter, db: Db): string[] {
  const names = repoNames(adapter);
  return [...names, ...reposWithTasks(db).filter((r) => !names.includes(r))];
}

/** One summary per known repository, in config order. */
export function repoSummaries(adapter: Adapter, db: Db, now = Date.now()): RepoSummary[] {
  const spend = spendByRepoBetween(db, dayStart(now), now + 1);
  const counts = countsByRepo(db);
  return knownRepos(adapter, db).map((name) => ({
    name,
    counts: counts[name] ?? {},
    todayUsd: round(spend[name] ?? 0),
    dailyHardUsd: repoCap(adapter, name),
  }));
}

/** A repository's daily hard cap in multi-repo mode (a repository since removed from the config: null). */
function repoCap(adapter: Adapter, name: string): number | null {
  if (!isMultiRepo(adapter)) return null;
  return repoViews(adapter).find((r) => r.name === name)?.budget.dailyHardUsd ?? null;
}

/** `product $1.20 (cap $5.00), tools $0.30`: one line for people; a cap only where it is tighter than the global one. */
export function repoSpendLine(repos: readonly RepoSummary[], globalHardUsd: number): string {
  return repos.map((r) => `${r.name} $${r.todayUsd.toFixed(2)}${r.dailyHardUsd === null || r.dailyHardUsd >= globalHardUsd ? '' : ` (cap $${r.dailyHardUsd.toFixed(2)})`}`).join(', ');
}

function round(usd: number): number {
  return Math.round(usd * 10_000) / 10_000;
}
