import { describe, expect, it } from 'vitest';
import { dailyDue, latestSlot, msUntilNextCheck, nextSlot, parseSchedule } from '../../machines/promote-schedule.js';

const at = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe('promote schedule math (UTC)', () => {
  it('parses the two forms and refuses anything else with what it expected', () => {
    expect(parseSchedule('daily 03:30')).toEqual({ kind: 'daily', minuteOfDay: 210 });
    expect(parseSchedule('daily 00:00')).toEqual({ kind: 'daily', minuteOfDay: 0 });
    expect(parseSchedule('daily 23:59')).toEqual({ kind: 'daily', minuteOfDay: 23 * 60 + 59 });
    expect(parseSchedule('after-merge')).toEqual({ kind: 'after-merge' });
    for (const bad of ['daily 24:00', 'daily 3:00', 'daily 03:60', 'weekly 03:00', 'daily  03:00', '']) expect(() => parseSchedule(bad), bad).toThrow(/daily HH:MM/);
  });

  it('finds the latest slot at or before now, and the next one after it', () => {
    const m = 3 * 60;
    expect(latestSlot(m, at('2026-03-10T02:59:59Z'))).toBe(at('2026-03-09T03:00:00Z'));
    expect(latestSlot(m, at('2026-03-10T03:00:00Z'))).toBe(at('2026-03-10T03:00:00Z'));
    expect(latestSlot(m, at('2026-03-10T23:00:00Z'))).toBe(at('2026-03-10T03:00:00Z'));
    expect(nextSlot(m, at('2026-03-10T03:00:00Z'))).toBe(at('2026-03-11T03:00:00Z'));
    expect(nextSlot(m, at('2026-03-10T02:00:00Z'))).toBe(at('2026-03-10T03:00:00Z'));
    // Across a year end, and a DST change in most zones (UTC has none).
    expect(nextSlot(m, at('2026-12-31T04:00:00Z'))).toBe(at('2027-01-01T03:00:00Z'));
    expect(latestSlot(m, at('2026-03-29T03:30:00Z'))).toBe(at('2026-03-29T03:00:00Z'));
  });

  it('is due once a slot has come since the last run, once however many were missed', () => {
    const m = 3 * 60;
    const ranYesterday = at('2026-03-09T03:00:05Z');
    expect(dailyDue(m, ranYesterday, at('2026-03-10T02:59:00Z'))).toBe(false);
    expect(dailyDue(m, ranYesterday, at('2026-03-10T03:00:00Z'))).toBe(true);
    expect(dailyDue(m, at('2026-03-10T03:00:01Z'), at('2026-03-10T22:00:00Z'))).toBe(false);
    // Down for three days: one run catches up, then nothing until the next slot.
    expect(dailyDue(m, at('2026-03-05T03:00:01Z'), at('2026-03-08T12:00:00Z'))).toBe(true);
    expect(dailyDue(m, at('2026-03-08T12:00:01Z'), at('2026-03-08T13:00:00Z'))).toBe(false);
    // A run earlier the same day (by hand, before the slot) does not replace the slot's run.
    expect(dailyDue(m, at('2026-03-10T01:00:00Z'), at('2026-03-10T03:00:00Z'))).toBe(true);
  });

  it('waits until the next slot, never longer than the interval, never zero', () => {
    const daily = parseSchedule('daily 03:00');
    expect(msUntilNextCheck(daily, at('2026-03-10T02:58:00Z'), 10 * MIN)).toBe(2 * MIN);
    expect(msUntilNextCheck(daily, at('2026-03-10T01:00:00Z'), 10 * MIN)).toBe(10 * MIN);
    expect(msUntilNextCheck(daily, at('2026-03-10T03:00:00Z'), 10 * MIN)).toBe(10 * MIN);
    expect(msUntilNextCheck(daily, at('2026-03-10T02:59:59.999Z'), 10 * MIN)).toBe(1);
    expect(msUntilNextCheck(parseSchedule('after-merge'), 0, 30_000)).toBe(30_000);
  });
});
