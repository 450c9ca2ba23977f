import type { Clock } from '../clock.js';
import type { Adapter } from '../config/schema.js';
import type { Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { appendEvent, dayStart, spendBetween } from '../store/ledger.js';
import { eventSince, taskHasEvent } from '../store/ledger-queries.js';

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

/**
 * Shadow runs (agents.shadow) stop first: past today's soft cap no new shadow starts, while the real work goes on
 * (fix attempts, retries) until the hard cap.
 */
export function newShadowsHeld(db: Db, now: number, budget: Adapter['budget']): boolean {
  return newTasksHeld(db, now, budget);
}

/** A task has been dispatched once it has ever been provisioned (the ledger keeps every transition). */
export function everDispatched(db: Db, taskId: string): boolean {
  return taskHasEvent(db, taskId, 'task.provisioning');
}
