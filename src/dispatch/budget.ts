import type { Clock } from '../clock.js';
import type { Adapter } from '../config/schema.js';
import type { Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { appendEvent, dayStart, spendBetween, spendByRepoBetween } from '../store/ledger.js';
import { eventSince, repoEventSince, taskHasEvent } from '../store/ledger-queries.js';
import { runningShadowTasks } from '../store/shadow.js';
import type { DispatchPool } from './pool.js';
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
 * restart does not repeat them) — and nothing new dispatches until the next day. `reservedUsd`: what the tasks in
 * flight (and the one asking) may still spend; every shadow run in flight is reserved on top, at the per-task cap.
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
    const reserved = (options.reservedUsd?.() ?? 0) + shadowsInFlight(db) * budget.perTaskUsd;
    const exceeded = spentToday >= budget.dailyHardUsd || (reserved > 0 && spentToday + reserved > budget.dailyHardUsd);
    const payload = { spentUsd: Math.round(spentToday * 10_000) / 10_000, softUsd: budget.dailySoftUsd, hardUsd: budget.dailyHardUsd };
    const resume = new Date(start + DAY_MS).toISOString().replace('.000Z', 'Z');
    if (soft) once('budget.soft_warning', start, payload, `Daily spend $${payload.spentUsd} passed the soft cap of $${budget.dailySoftUsd}; no new task starts until ${resume} (tasks already started go on)`, 'warn');
    // Refused for the sessions in flight (their caps reserved), not for spend already over: the title says which.
    const why = spentToday >= budget.dailyHardUsd
      ? `Daily hard budget cap reached: $${spentToday.toFixed(2)} of $${budget.dailyHardUsd}`
      : `Daily hard budget cap would be passed by the sessions in flight: $${spentToday.toFixed(2)} spent + $${reserved.toFixed(2)} reserved, of $${budget.dailyHardUsd}`;
    if (exceeded) once('budget.hard_stop', start, { ...payload, reservedUsd: Math.round(reserved * 10_000) / 10_000 }, `${why}; no new agent starts until ${resume}`, 'warn');
    return { spentToday, soft, exceeded, until: start + DAY_MS };
  };
}

/** Past today's soft cap: no new task starts (the seeder brings none alive, the pool gives none its first slot). */
export function newTasksHeld(db: Db, now: number, budget: Adapter['budget']): boolean {
  return spendBetween(db, dayStart(now), now + 1) >= budget.dailySoftUsd;
}

/**
 * Shadow runs (agents.shadow) stop first: past today's soft cap no new shadow starts, while the real work goes on
 * (fix attempts, retries) until the hard cap.
 */
export function newShadowsHeld(db: Db, now: number, budget: Adapter['budget']): boolean {
  return newTasksHeld(db, now, budget);
}

/**
 * Shadow sessions in flight (of the tasks `which` picks): the pair table's running rows, so a restart leaves no
 * phantom (the engine records the last run's as interrupted before it dispatches anything).
 */
export function shadowsInFlight(db: Db, which?: (taskId: string) => boolean): number {
  const tasks = runningShadowTasks(db);
  return which ? tasks.filter(which).length : tasks.length;
}

/**
 * The largest per-task cap a session in flight may carry: the global one, or with `repos` the largest of the
 * repositories' (a task's adapter view carries its own repository's cap as `budget.perTaskUsd`, not the global one).
 */
function sessionCapUsd(adapter: Adapter): number {
  return Math.max(adapter.budget.perTaskUsd, ...(adapter.repos ?? []).map((r) => r.budget.perTaskUsd));
}

const usd = (v: number) => `$${Math.round(v * 10_000) / 10_000}`;

/**
 * Why a shadow may not start now, or undefined: it starts only if today's spend, the per-task cap of every session
 * in flight (tasks and shadows) and its own stay within the daily hard cap, and within its repository's.
 * `adapter`: as the task sees it (its `budget.perTaskUsd` is its own cap, its repository's with `repos`).
 * Called just before the shadow's pair is claimed, with no await between: two shadows never both take the last room.
 */
export function shadowBudgetRefusal(o: { db: Db; adapter: Adapter; now: number; taskId: string; pool: Pick<DispatchPool, 'inFlight' | 'inFlightWhere'> }): string | undefined {
  const { db, adapter, now } = o;
  const start = dayStart(now);
  const over = (scope: string, spent: number, sessions: number, caps: Adapter['budget'], eachUsd = caps.perTaskUsd) => {
    const reserved = sessions * eachUsd;
    if (spent < caps.dailyHardUsd && spent + reserved + caps.perTaskUsd <= caps.dailyHardUsd) return undefined;
    return `budget: starting it would pass ${scope} of ${usd(caps.dailyHardUsd)} (${usd(spent)} spent today + ${usd(reserved)} reserved for ${sessions} session${sessions === 1 ? '' : 's'} in flight + ${usd(caps.perTaskUsd)} for this shadow)`;
  };
  const global = over('the daily hard cap', spendBetween(db, start, now + 1), o.pool.inFlight() + shadowsInFlight(db), adapter.budget, sessionCapUsd(adapter));
  if (global || !isMultiRepo(adapter)) return global;
  const repo = repoOfTask(adapter, o.taskId);
  const mine = (id: string) => repoOfTask(adapter, id) === repo;
  const sessions = o.pool.inFlightWhere(mine) + shadowsInFlight(db, mine);
  return over(`repository ${repo}'s daily hard cap`, spendByRepoBetween(db, start, now + 1)[repo] ?? 0, sessions, repoView(adapter, repo).budget);
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
 * sessions in flight: its tasks' and their shadows'). Each passing is recorded once a day per repository. Undefined with `repo`.
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
    const shadows = shadowsInFlight(db, (id) => repoOfTask(adapter, id) === repo);
    const reserved = (options.inFlight(repo) + shadows + 1) * caps.perTaskUsd;
    const soft = spentToday >= caps.dailySoftUsd;
    const exceeded = spentToday >= caps.dailyHardUsd || spentToday + reserved > caps.dailyHardUsd;
    const payload = { repo, spentUsd: Math.round(spentToday * 10_000) / 10_000, softUsd: caps.dailySoftUsd, hardUsd: caps.dailyHardUsd };
    if (soft) once('budget.repo_soft_warning', repo, start, payload, `Repository ${repo} spent $${payload.spentUsd} today, past its soft cap of $${caps.dailySoftUsd}; none of its new tasks starts today`);
    if (exceeded) once('budget.repo_hard_stop', repo, start, payload, `Repository ${repo} reached its daily hard cap ($${caps.dailyHardUsd}); none of its agents starts today`);
    return { spentToday, soft, exceeded, until: start + DAY_MS };
  };
}
