/**
 * The promote schedule's arithmetic, pure: no clock, no I/O. Times are epoch milliseconds and a
 * "daily HH:MM" schedule is read in UTC (the engine's clock is epoch time and a server's zone is
 * rarely what an operator thinks it is; docs/adapter.md says UTC).
 */

export type PromoteSchedule = { kind: 'daily'; minuteOfDay: number } | { kind: 'after-merge' };

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** `"daily 03:30"` → 210 minutes past midnight UTC; `"after-merge"`; anything else is an error (the config schema checks first). */
export function parseSchedule(text: string): PromoteSchedule {
  if (text === 'after-merge') return { kind: 'after-merge' };
  const m = /^daily ([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(text);
  if (!m) throw new Error(`Expected a promote schedule "daily HH:MM" (UTC) or "after-merge", got ${JSON.stringify(text)}.`);
  return { kind: 'daily', minuteOfDay: Number(m[1]) * 60 + Number(m[2]) };
}

/** The latest daily slot at or before `now`: today's HH:MM once it has passed, else yesterday's. */
export function latestSlot(minuteOfDay: number, now: number): number {
  const today = now - (((now % DAY_MS) + DAY_MS) % DAY_MS) + minuteOfDay * MINUTE_MS;
  return today <= now ? today : today - DAY_MS;
}

/** The first daily slot strictly after `now`. */
export function nextSlot(minuteOfDay: number, now: number): number {
  return latestSlot(minuteOfDay, now) + DAY_MS;
}

/**
 * Whether a daily promote is due: a slot has come since the last run (or since the promoter was armed).
 * However many slots were missed while no engine ran, one run catches up: the next is at the next slot.
 */
export function dailyDue(minuteOfDay: number, lastRunAt: number, now: number): boolean {
  return latestSlot(minuteOfDay, now) > lastRunAt;
}

/** How long to wait before looking again: until the next slot, at most `maxMs` (a clock that jumps is noticed). */
export function msUntilNextCheck(schedule: PromoteSchedule, now: number, maxMs: number): number {
  if (schedule.kind === 'after-merge') return maxMs;
  return Math.max(1, Math.min(maxMs, nextSlot(schedule.minuteOfDay, now) - now));
}
