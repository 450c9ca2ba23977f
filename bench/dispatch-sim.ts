/**
 * P3: dispatch latency with 50 simulated hosts (the proof suites' simulated transport, src/sim) and 400
 * live tasks: wall time from a task's `waiting` commit, when a slot was free for it, to its worker's spawn
 * on a simulated host. The same measure with 2 hosts and 12 live tasks (the simulated week's scale) is the
 * baseline. Only the clock is simulated: the engine, persister, pool, planner and launch path are real.
 */
import { performance } from 'node:perf_hooks';
import { World } from '../src/sim/world.js';
import { median, pct, round, type FigureOptions as BenchOptions } from './fixtures.js';

async function dispatchRun(o: { hosts: number; slots: number; live: number; samples: number; seed: number }) {
  const world = new World({
    seed: o.seed,
    days: 1,
    // The first batch (at t=0) holds 3 hours' worth: enough to fill the live set at once.
    tasksPerDay: Math.ceil((o.live * 24) / 3),
    killsPerDay: 0,
    restartsPerDay: 0,
    outagesPerDay: 0,
    diskFullPerDay: 0,
    forgeFaultRate: 0,
    rateLimitWindows: 0,
    expiredKeyDays: 0,
    fleet: { count: o.hosts, slots: o.slots },
    maxLiveTasks: o.live,
    budget: { perTaskUsd: 2, dailySoftUsd: 100_000, dailyHardUsd: 200_000 },
  });
  const waitingAt = new Map<string, number>();
  const lat: number[] = [];
  world.onBoot = (engine) =>
    engine.onCommit((changes) => {
      for (const c of changes) {
        if (c.machine !== 'task' || c.status !== 'waiting' || waitingAt.has(c.actor)) continue;
        const hosts = engine.pool.hosts();
        // Counted only if a slot was free when it became ready (not waiting behind another task).
        if (hosts.some((h) => !h.blocked && h.inUse < h.capacity)) waitingAt.set(c.actor, performance.now());
      }
    });
  world.onSpawn = (task) => {
    const at = waitingAt.get(`task:${task}`);
    if (at !== undefined) lat.push(performance.now() - at);
    waitingAt.delete(`task:${task}`);
  };
  world.stopWhen = () => lat.length >= o.samples;
  try {
    await world.run();
  } finally {
    await world.close();
  }
  return { hosts: o.hosts, live: o.live, samples: lat.length, p50Ms: round(median(lat), 1), p99Ms: round(pct(lat, 99), 1), maxMs: round(Math.max(...lat), 1) };
}

export async function benchDispatchSim(o: BenchOptions) {
  const samples = o.quick ? 150 : 400;
  o.progress(`dispatch-sim: P3 dispatch latency, 50 simulated hosts × 8 slots, 400 live tasks (${samples} dispatches), vs 2 hosts / 12 live`);
  const fleet = await dispatchRun({ hosts: 50, slots: 8, live: 400, samples, seed: 19 });
  o.progress(`dispatch-sim: 50 hosts / 400 live: p50 ${fleet.p50Ms} ms, p99 ${fleet.p99Ms} ms (P3 ≤ 100 / ≤ 250)`);
  const small = await dispatchRun({ hosts: 2, slots: 3, live: 12, samples: Math.min(samples, 40), seed: 19 });
  o.progress(`dispatch-sim: 2 hosts / 12 live (baseline): p50 ${small.p50Ms} ms, p99 ${small.p99Ms} ms`);
  return { fleet, baseline: small, p50Ratio: round(fleet.p50Ms / small.p50Ms, 2), targetP50Ms: 100, targetP99Ms: 250 };
}

if (process.argv[1]?.endsWith('dispatch-sim.js')) {
  const figures = await benchDispatchSim({ quick: process.argv.includes('--quick'), progress: (l) => process.stderr.write(`bench: ${l}\n`) });
  process.stdout.write(`${JSON.stringify(figures, null, process.argv.includes('--json') ? 0 : 2)}\n`);
}

/** `bench/run.ts`'s table: P3 at the fleet's size beside the small baseline. */
export function dispatchSimRows(f: Awaited<ReturnType<typeof benchDispatchSim>>): Array<[string, string, string, string]> {
  return [
    [`dispatch, ${f.fleet.hosts} simulated hosts / ${f.fleet.live} live: p50`, `${f.fleet.p50Ms} ms`, `≤ ${f.targetP50Ms} ms`, `baseline ${f.baseline.hosts} hosts: ${f.baseline.p50Ms} ms`],
    [`   p99 (${f.fleet.samples} samples)`, `${f.fleet.p99Ms} ms`, `≤ ${f.targetP99Ms} ms`, `baseline ${f.baseline.p99Ms} ms`],
  ];
}
