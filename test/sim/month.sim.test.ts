import { describe, expect, it } from 'vitest';
import { printMonth, runMonth } from '../../src/sim/month.js';

/**
 * The simulated month, short: a few days of a fleet (many hosts, a live set past the old cap of 20,
 * outage weather) on the real engine. `npm run sim:month` runs the full month (50 hosts, 400 live tasks,
 * 100 items a day, 30 days) and prints its report; OXI_SIM_SEED replays a run.
 */
const seed = Number(process.env.OXI_SIM_SEED ?? Date.now() % 100_000);

describe(`a short simulated month (seed ${seed})`, () => {
  it('a fleet of 8 hosts with 30 live tasks keeps every contract through outage weather, and merges work each day', { timeout: 900_000 }, async () => {
    const r = await runMonth({ seed, days: 2, hosts: 8, slotsPerHost: 3, maxLiveTasks: 30, itemsPerDay: 24 });
    process.stderr.write(`${printMonth(r)}\n`);
    const replay = `seed ${seed} (OXI_SIM_SEED=${seed})`;
    for (const [contract, held] of Object.entries(r.contracts)) expect(held, `${contract}, ${replay}`).toBe(true);
    expect(r.week.violations, replay).toEqual([]);
    expect(r.mergedPerDay, replay).toHaveLength(2);
    expect(r.mergedPerDay.every((n) => n > 0), `merged every day, ${replay}`).toBe(true);
    expect(r.dbBytesPerDay.every((b) => b > 0), replay).toBe(true);
    expect(r.week.events.outages + r.week.events.kills + r.week.events.restarts, replay).toBeGreaterThan(0);
  });
});
