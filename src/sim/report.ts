import { MAX_ENV_WAITS } from '../../machines/task.js';
import { countEventsOfKind, nextTaskEventAfterReview, simTasks, softCapDay, spendEvents, workerOutageCounter } from '../store/sim-queries.js';
import { DAY, START, type World } from './world.js';

export interface WeekReport {
  seed: number;
  days: number;
  tasks: number;
  merged: number;
  abandoned: number;
  inFlight: number;
  reaped: number;
  dispatches: { max: number; mean: number; bound: number; histogram: Record<string, number> };
  attemptsMax: number;
  spendPerDay: Array<{ day: number; usd: number; softUsd: number; hardUsd: number; softPassedAt: string | null; newTasksHeld: number; afterSoftUsd: number }>;
  /** Abandoned because the logs disk was full (an environment error counted against the task). */
  abandonedByDisk: number;
  /** Abandoned because of outage weather (a usage limit, an expired key): must be none. */
  abandonedByOutage: number;
  /** The agent gates: how often they closed and reopened. */
  gates: { closed: number; opened: number };
  /** Forge faults during a review, and how many of them the task took for a rejection. */
  review: { forgeFaults: number; rejectedByForgeFault: number; retried: number; next: Record<string, number> };
  maxQueueWaitMin: number;
  prsPerTaskMax: number;
  mergesPerTaskMax: number;
  orphans: string[];
  violations: World['violations'];
  behaviours: Record<string, number>;
  events: World['counters'] & { forgeFaults: number; forgeCalls: number; behindBack: number; spawnsOnUnreachableHost: number };
  abandonReasons: Record<string, number>;
}

/** What the week did, from the database (the truth) and the world's own counters. */
export function weekReport(world: World): WeekReport {
  const { db, adapter } = world;
  const tasks = simTasks(db);
  const count = (s: string) => tasks.filter((t) => t.status === s).length;
  // A spawn whose launch then fails on the machine (a full disk) spends no attempt: the task machine allows MAX_ENV_WAITS of those.
  const bound = adapter.policy.maxAttempts * (1 + adapter.policy.maxFixAttempts) + MAX_ENV_WAITS;
  // A relaunch after a worker outage (rate limit, bad key, stall) spends no attempt: it is paced by a wait, not counted.
  const outageRelaunches = workerOutageCounter(db);
  const perTask = tasks.map((t) => (world.spawns.get(t.id)?.length ?? 0) - outageRelaunches(t.id));
  const histogram: Record<string, number> = {};
  for (const n of perTask) histogram[n] = (histogram[n] ?? 0) + 1;
  const spendRows = spendEvents(db);
  const spendPerDay = Array.from({ length: world.options.days }, (_, day) => ({
    day: day + 1,
    usd: Math.round(spendRows.filter((r) => r.at >= START + day * DAY && r.at < START + (day + 1) * DAY).reduce((a, r) => a + r.usd, 0) * 100) / 100,
    softUsd: adapter.budget.dailySoftUsd,
    hardUsd: adapter.budget.dailyHardUsd,
    ...softCapOn(world, START + day * DAY),
  }));
  const now = world.clock.now();
  const waits = tasks.map((t) => ((world.spawns.get(t.id)?.[0] ?? (['queued', 'planning', 'waiting', 'deferred', 'backoff'].includes(t.status) ? now : undefined)) ?? t.created_at) - t.created_at);
  const live = new Map(tasks.map((t) => [t.id, t.status]));
  const orphans = [...world.hosts.values()].flatMap((h) => h.alive().filter((p) => !['working', 'held'].includes(live.get(p.task) ?? '')).map((p) => `${p.task} pid ${p.pid} on ${h.name} (task ${live.get(p.task)})`));
  const abandonReasons: Record<string, number> = {};
  for (const t of tasks.filter((x) => x.status === 'abandoned')) {
    const key = (t.reason ?? '?').replace(/\d+/g, 'N').slice(0, 60);
    abandonReasons[key] = (abandonReasons[key] ?? 0) + 1;
  }
  // What the task did next, after the review the fault hit (everything may happen at one simulated instant).
  const nextTaskRow = nextTaskEventAfterReview(db);
  const afterFault = world.reviewFaults.map((f) => nextTaskRow(f.task, f.at));
  return {
    seed: world.options.seed,
    days: world.options.days,
    tasks: tasks.length,
    merged: count('merged'),
    abandoned: count('abandoned'),
    inFlight: tasks.length - count('merged') - count('abandoned'),
    reaped: countEventsOfKind(db, 'task.reaped'),
    dispatches: { max: Math.max(0, ...perTask), mean: Math.round((perTask.reduce((a, b) => a + b, 0) / Math.max(1, tasks.length)) * 100) / 100, bound, histogram },
    attemptsMax: Math.max(0, ...tasks.map((t) => t.attempt + 1)),
    spendPerDay,
    maxQueueWaitMin: Math.round(Math.max(0, ...waits) / 60_000),
    prsPerTaskMax: Math.max(0, ...world.forge.opened.values()),
    mergesPerTaskMax: Math.max(0, ...world.forge.merges.values()),
    orphans,
    violations: world.violations,
    behaviours: world.population.counts,
    events: { ...world.counters, forgeFaults: world.forge.faults.injected, forgeCalls: world.forge.faults.served, behindBack: world.forge.faults.behindBack, spawnsOnUnreachableHost: [...world.hosts.values()].reduce((n, h) => n + h.refusedSpawns, 0) },
    abandonReasons,
    abandonedByOutage: tasks.filter((t) => t.status === 'abandoned' && /usage limit|rate.?limit|429|401|authenticat|outage/i.test(t.reason ?? '')).length,
    gates: { closed: countEventsOfKind(db, 'agent.gate_closed'), opened: countEventsOfKind(db, 'agent.gate_opened') },
    abandonedByDisk: tasks.filter((t) => t.status === 'abandoned' && /ENOSPC|no space left/i.test(t.reason ?? '')).length,
    review: { forgeFaults: world.reviewFaults.length, rejectedByForgeFault: afterFault.filter((k) => k === 'task.rejected').length, retried: afterFault.filter((k) => k === 'task.pr_backoff').length, next: tally(afterFault.map(String)) },
  };
}

function tally(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/** When the day's spend passed the soft cap, and how many claims of never-dispatched tasks were held back after it. */
function softCapOn(world: World, from: number): { softPassedAt: string | null; newTasksHeld: number; afterSoftUsd: number } {
  const to = from + DAY;
  const { warnedAt, held, afterUsd } = softCapDay(world.db, from, to);
  return { softPassedAt: warnedAt !== null ? new Date(warnedAt).toISOString().slice(11, 16) : null, newTasksHeld: held, afterSoftUsd: Math.round(afterUsd * 100) / 100 };
}

export function printReport(r: WeekReport): string {
  const lines = [
    `simulated ${r.days} days (seed ${r.seed}; replay with OXI_SIM_SEED=${r.seed}):`,
    `  tasks ${r.tasks}: merged ${r.merged}, abandoned ${r.abandoned}, in flight ${r.inFlight}; reaped ${r.reaped}`,
    `  dispatches per task: max ${r.dispatches.max} (bound ${r.dispatches.bound}: the policy's + ${MAX_ENV_WAITS} environment waits), mean ${r.dispatches.mean}, histogram ${JSON.stringify(r.dispatches.histogram)}`,
    `  attempts max ${r.attemptsMax}; PRs per task max ${r.prsPerTaskMax}; merges per task max ${r.mergesPerTaskMax}; max queue wait ${r.maxQueueWaitMin} min`,
    `  spend per day (soft ${r.spendPerDay[0]?.softUsd}, hard ${r.spendPerDay[0]?.hardUsd}): ${r.spendPerDay.map((d) => `$${d.usd}`).join(' ')}`,
    `  soft cap: ${r.spendPerDay.map((d) => `day ${d.day} ${d.softPassedAt ? `passed ${d.softPassedAt} UTC, then $${d.afterSoftUsd} by work already started, ${d.newTasksHeld} first-slot claims refused` : 'not reached'}`).join('; ')}`,
    `  outage weather: ${r.events.rateLimitWindows ?? 0} usage-limit windows, ${r.events.expiredKeyDays ?? 0} expired-key days; abandoned by an outage: ${r.abandonedByOutage}; agent gates closed ${r.gates.closed}, reopened ${r.gates.opened}`,
    `  abandoned by a full disk: ${r.abandonedByDisk}; review forge faults ${r.review.forgeFaults}: ${r.review.retried} retried, ${r.review.rejectedByForgeFault} taken for a rejection (next step: ${JSON.stringify(r.review.next)})`,
    `  workers: ${JSON.stringify(r.behaviours)}`,
    `  events: ${JSON.stringify(r.events)}`,
    `  abandoned because: ${JSON.stringify(r.abandonReasons)}`,
    `  orphans: ${r.orphans.length ? r.orphans.join('; ') : 'none'}; violations: ${r.violations.length ? JSON.stringify(r.violations.slice(0, 10)) : 'none'}`,
  ];
  return lines.join('\n');
}
