/**
 * `budget.dailySoftUsd`: "Daily spend after which no new task is started." Past it, a task never
 * dispatched gets no slot and the seeder brings no new task alive; work already started goes on.
 * The next UTC day reopens. The real engine, the scripted agent, the local forge and host.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../inspector/snapshot.js';
import { loadAdapter } from '../../src/config/load.js';
import { startEngine } from '../../src/runtime/engine.js';
import { openDb } from '../../src/store/db.js';
import { dayStart } from '../../src/store/ledger.js';
import { JumpClock } from '../helpers/jump-clock.js';
import { sampleProject, waitFor } from '../helpers/project.js';

const HOUR = 3_600_000;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

describe('the daily soft cap', () => {
  it('starts no new task past it, lets started work finish, and reopens the next UTC day', async () => {
    const p = sampleProject({
      tasks: 3,
      // Each worker session costs $1: the first one alone passes the $1 soft cap.
      script: (s) => Object.values(s.tasks).forEach((t) => Object.assign(t, { costUsd: 1 })),
      config: (c) => {
        c.budget = { perTaskUsd: 1.5, dailySoftUsd: 1, dailyHardUsd: 10 };
        c.hosts[0].maxWorkers = 1;
        c.planTier = { maxWorkers: 1 };
        c.engine = { ...c.engine, maxLiveTasks: 2, prWatchIntervalMs: 150, seedIntervalMs: 200, reaperIntervalMs: 1000, backoffBaseMs: 200, backoffMaxMs: 1000 };
      },
    });
    cleanups.push(p.cleanup);
    const adapter = await loadAdapter({ configPath: p.configPath });
    const db = openDb(adapter.paths.db);
    cleanups.push(() => db.close());
    // Mid-morning UTC, so the day cannot turn during the first part of the test.
    const day1 = dayStart(Date.now()) + 10 * HOUR;
    const clock = new JumpClock(day1);
    const engine = startEngine({ adapter, db, clock, notifier: { notify: async () => {} } });
    cleanups.push(() => engine.stop());

    const status = (id: string) => (db.prepare('SELECT status, reason FROM tasks WHERE id = ?').get(id) as { status: string; reason: string | null });
    const dispatched = (id: string) => db.prepare(`SELECT 1 FROM event WHERE task = ? AND kind = 'task.provisioning'`).all(id).length > 0;
    const planned = (id: string) => db.prepare(`SELECT 1 FROM event WHERE task = ? AND kind = 'task.planning'`).all(id).length > 0;
    const rows = (kind: string) => db.prepare('SELECT task, payload FROM event WHERE kind = ? ORDER BY id').all(kind) as Array<{ task: string | null; payload: string }>;
    const [first, second, third] = p.ids;

    // The first task takes the only slot, spends $1 and goes on to its PR and merge.
    await waitFor('the first task merged', () => status(first).status === 'merged', 60_000);
    // The second was seeded and planned before the cap was passed; it was never dispatched: no slot today.
    await waitFor('the second task held back', () => status(second).status === 'deferred', 30_000);
    expect(status(second).reason).toBe('deferred: soft_budget');
    expect(dispatched(second)).toBe(false);
    expect(rows('budget.soft_cap').map((r) => r.task)).toContain(second);
    expect(rows('budget.soft_warning')).toHaveLength(1);
    expect(JSON.parse(rows('budget.soft_warning')[0].payload)).toMatchObject({ softUsd: 1, hardUsd: 10 });
    // The dashboard says so.
    expect(buildSnapshot(db, adapter, engine, clock.now()).spend).toMatchObject({ gate: 'soft', dailySoftUsd: 1, dailyHardUsd: 10 });
    // The third was never even seeded: its planner did not run.
    await new Promise((r) => setTimeout(r, 600)); // a few seeder passes (every 200 ms)
    expect(status(third).status).toBe('queued');
    expect(planned(third)).toBe(false);

    // The next UTC day: the deferral wakes, the second task is dispatched and merged.
    clock.jumpTo(dayStart(day1) + 24 * HOUR + 60_000);
    await waitFor('the second task merged the next day', () => status(second).status === 'merged', 60_000);
    expect(dispatched(second)).toBe(true);
    // Its $1 passes the new day's soft cap in turn (the warning comes with the next budget check): the third waits for the day after.
    await waitFor('the second day\'s soft-cap warning', () => rows('budget.soft_warning').length === 2, 30_000);
    const held = (t: { status: string; reason: string | null }) => t.status === 'queued' || (t.status === 'deferred' && t.reason === 'deferred: soft_budget');
    await waitFor('the third task held back on day 2', () => held(status(third)), 30_000);
    expect(dispatched(third)).toBe(false);
  });
});
