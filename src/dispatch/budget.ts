import type { Clock } from '../clock.js';
import type { Adapter } from '../config/schema.js';
import type { Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { appendEvent, dayStart, spendBetween, spendByRepoBetween } from '../store/ledger.js';
import { eventSince, repoEventSince, taskHasEvent } from '../store/ledger-queries.js';
import { isMultiRepo, repoNames, repoOfTask, repoView, repoViews } from '../config/repos.js';

const DAY_MS = 86_400_000;

export interface BudgetState {
  spentToday: number;
  soft: boolean;
  exceeded: boolean;
  /** When dispatch may resume (the next UTC day). */
  until: number;
}

/**
 * The daily budget gate the dispatch pool asks before every claim. Spend is summed from the day's
 * spend events. Passing the soft cap records one `budget.soft_warning` (from then on no new task
 * starts: see `DispatchPool.claim` and `newTasksHeld`); reaching the hard cap records
 * one `budget.hard_stop` — once per day, however many tasks ask (the ledger itself is the latch, so a
 * restart does not repeat them) — and nothing new dispatches until the next day.
 */
export function dailyBudgetGate(options: { db: Db; clock: Clock; budget: Adapter['budget']; notifier?: Notifier; reservedUsd?: () => number }): () => BudgetState {
  const { db, clock, budget } = options;
  const once = (kind: string, from: number, payload: Record<string, unknown>, title: string, severity: 'warn' | 'error') => {
    if (eventSince(db, kind, from)) return;
    appendEvent(db, { at: clock.now(), actor: 'engine', kind, payload });
    options.notifier?.notify({ kind, title, severity }).catch(() => undefined);
  };
  return () => {
    const now = clock.now();
    const start = dayStart(now);
    const spentToday = spendBetween(db, start, now + 1);
    const soft = spentToday >= budget.dailySoftUsd;
    const reserved = options.reservedUsd?.() ?? 0;
    const exceeded = spentToday >= budget.dailyHardUsd || (reserved > 0 && spentToday + reserved > budget.dailyHardUsd);
    const payload = { spentUsd: Math.round(spentToday * 10_000) / 10_000, softUsd: budget.dailySoftUsd, hardUsd: budget.dailyHardUsd };
    const resume = new Date(start + DAY_MS).toISOString().replace('.000Z', 'Z');
    if (soft) once('budget.soft_warning', start, payload, `Daily spend $${payload.spentUsd} passed the soft cap of $${budget.dailySoftUsd}; no new task starts until ${resume} (tasks already started go on)`, 'warn');
    if (exceeded) once('budget.hard_stop', start, payload, `Daily hard budget cap reached: $${spentToday.toFixed(2)} of $${budget.dailyHardUsd}; no new agent starts until ${resume}`, 'warn');
    return { spentToday, soft, exceeded, until: start + DAY_MS };
  };
}

/** Past today's soft cap: no new task starts (the seeder brings none alive, the pool gives none its first slot). */
export function newTasksHeld(db: Db, now: number, budget: Adapter['budget']): boolean {
  return spendBetween(db, dayStart(now), now + 1) >= budget.dailySoftUsd;
}

/** A task has been dispatched once it has ever been provisioned (the ledger keeps every transition). */
export function everDispatched(db: Db, taskId: string): boolean {
  return taskHasEvent(db, taskId, 'task.provisioning');
}

// ---------------------------------------------------------------- per repository (`repos[].budget`)

/** Today's spend of each repository (UTC day containing `now`), every repository listed (0 when none). */
export function repoSpendToday(db: Db, adapter: Adapter, now: number): Record<string, number> {
  const spent = spendByRepoBetween(db, dayStart(now), now + 1);
  return Object.fromEntries(repoNames(adapter).map((name) => [name, spent[name] ?? 0]));
}

/** Repositories past their own daily soft cap today: none of their new tasks starts (empty with `repo`). */
export function heldRepos(db: Db, adapter: Adapter, now: number): string[] {
  if (!isMultiRepo(adapter)) return [];
  const spent = repoSpendToday(db, adapter, now);
  return repoViews(adapter).filter((r) => spent[r.name]! >= r.budget.dailySoftUsd).map((r) => r.name);
}

/**
 * The per-repository gate the pool asks besides the global one: a repository past its own daily caps is
 * refused like the whole engine past the global ones (its hard cap reserves the per-task cap of each of its
 * sessions in flight). Each passing is recorded once a day per repository. Undefined with `repo`.
 */
export function repoBudgetGate(options: { db: Db; clock: Clock; adapter: Adapter; notifier?: Notifier; inFlight: (repo: string) => number }): ((taskId: string) => BudgetState) | undefined {
  const { db, clock, adapter } = options;
  if (!isMultiRepo(adapter)) return undefined;
  const once = (kind: string, repo: string, from: number, payload: Record<string, unknown>, title: string) => {
    if (repoEventSince(db, kind, repo, from)) return;
    appendEvent(db, { at: clock.now(), actor: 'engine', kind, payload });
    options.notifier?.notify({ kind, title, severity: 'warn' }).catch(() => undefined);
  };
  return (taskId) => {
    const now = clock.now();
    const start = dayStart(now);
    const repo = repoOfTask(adapter, taskId);
    const caps = repoView(adapter, repo).budget;
    const spentToday = spendByRepoBetween(db, start, now + 1)[repo] ?? 0;
    const reserved = (options.inFlight(repo) + 1) * caps.perTaskUsd;
    const soft = spentToday >= caps.dailySoftUsd;
    const exceeded = spentToday >= caps.dailyHardUsd || spentToday + reserved > caps.dailyHardUsd;
    const payload = { repo, spentUsd: Math.round(spentToday * 10_000) / 10_000, softUsd: caps.dailySoftUsd, hardUsd: caps.dailyHardUsd };
    if (soft) once('budget.repo_soft_warning', repo, start, payload, `Repository ${repo} spent $${payload.spentUsd} today, past its soft cap of $${caps.dailySoftUsd}; none of its new tasks starts today`);
    if (exceeded) once('budget.repo_hard_stop', repo, start, payload, `Repository ${repo} reached its daily hard cap ($${caps.dailyHardUsd}); none of its agents starts today`);
    return { spentToday, soft, exceeded, until: start + DAY_MS };
  };
}
