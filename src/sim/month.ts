import { printReport, weekReport, type WeekReport } from './report.js';
import { World, type WorldOptions } from './world.js';

export interface MonthOptions {
  seed: number;
  days: number;
  hosts: number;
  slotsPerHost: number;
  maxLiveTasks: number;
  itemsPerDay: number;
  progress?: (line: string) => void;
}

/** The scale the issue names: 30 days, 50 hosts of 8 slots, 400 live tasks, 100 new items a day, outage weather. */
export const MONTH: Omit<MonthOptions, 'seed'> = { days: 30, hosts: 50, slotsPerHost: 8, maxLiveTasks: 400, itemsPerDay: 100 };

export interface MonthReport {
  options: Omit<MonthOptions, 'progress'>;
  wallSeconds: number;
  merged: number;
  mergedPerDay: number[];
  cpuMsPerMerged: number;
  dbBytesPerDay: number[];
  dbGrowthBytesPerDay: number;
  contracts: Record<string, boolean>;
  held: boolean;
  /** The world's VIOLATION lines, each with the task's recent ledger: how it got there. */
  violationLog: string[];
  week: WeekReport;
}

/** The same contracts the simulated week asserts, as named booleans. */
export function contractsOf(r: WeekReport, maxAttempts: number): Record<string, boolean> {
  return {
    'no violation (no side effect while killed, never two live workers, no engine fatal)': r.violations.length === 0,
    'dispatches per task within the policy bound (no thrash)': r.dispatches.max <= r.dispatches.bound,
    'attempts within policy.maxAttempts': r.attemptsMax <= maxAttempts,
    'no day spent past the hard cap': r.spendPerDay.every((d) => d.usd <= d.hardUsd),
    'at most one PR per task': r.prsPerTaskMax <= 1,
    'at most one merge per task': r.mergesPerTaskMax <= 1,
    'no orphan worker': r.orphans.length === 0,
    'no task abandoned by a full disk': r.abandonedByDisk === 0,
    'no task abandoned by outage weather': r.abandonedByOutage === 0,
    'no forge fault taken for a rejection': r.review.rejectedByForgeFault === 0,
  };
}

/** Outage weather scaled to the span: host outages, usage-limit windows, expired-key days, kills, restarts, full disks. */
export function monthWorld(o: MonthOptions): World {
  const weeks = Math.max(1, o.days / 7);
  const options: WorldOptions = {
    seed: o.seed,
    days: o.days,
    tasksPerDay: o.itemsPerDay,
    killsPerDay: 1,
    restartsPerDay: 1,
    outagesPerDay: 2,
    diskFullPerDay: 0.3,
    forgeFaultRate: 0.03,
    rateLimitWindows: Math.round(3 * weeks),
    expiredKeyDays: o.days >= 5 ? Math.max(1, Math.round(weeks / 2)) : 0,
    fleet: { count: o.hosts, slots: o.slotsPerHost },
    maxLiveTasks: o.maxLiveTasks,
    // Sessions last simulated tens of minutes: a poll a minute sees each one end soon enough, at half the week's cost.
    watchIntervalMs: 60_000,
    // A team's budget: every item a day can be worked (the population spends well under the per-task cap).
    budget: { perTaskUsd: 2, dailySoftUsd: o.itemsPerDay * 3, dailyHardUsd: o.itemsPerDay * 4 },
  };
  return new World(options);
}

/** Runs the simulated span and reads its report from the database and the world's counters. */
export async function runMonth(o: MonthOptions): Promise<MonthReport> {
  const world = monthWorld(o);
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const cpuStart = Math.round((cpu0.user + cpu0.system) / 1000);
    let lastDay = 0;
    const tick = setInterval(() => {
      const d = world.daily.at(-1);
      if (d && d.day !== lastDay) {
        lastDay = d.day;
        o.progress?.(`day ${d.day}/${o.days}: ${d.merged} merged of ${d.tasks} items, DB ${(d.dbBytes / 2 ** 20).toFixed(1)} MiB, ${Math.round((performance.now() - t0) / 1000)} s`);
      }
    }, 1000);
    try {
      await world.run();
    } finally {
      clearInterval(tick);
    }
    const cpu = process.cpuUsage(cpu0);
    const week = weekReport(world);
    const samples = world.daily;
    const merged = [0, ...samples.map((s) => s.merged)];
    const bytes = samples.map((s) => s.dbBytes);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    void cpuStart;
    const contracts = contractsOf(week, world.adapter.policy.maxAttempts);
    const { progress: _p, ...options } = o;
    return {
      options,
      wallSeconds: Math.round((performance.now() - t0) / 1000),
      merged: week.merged,
      mergedPerDay: samples.map((_, i) => merged[i + 1] - merged[i]),
      cpuMsPerMerged: Math.round((cpuMs / Math.max(1, week.merged)) * 10) / 10,
      dbBytesPerDay: bytes,
      dbGrowthBytesPerDay: bytes.length > 1 ? Math.round((bytes[bytes.length - 1] - bytes[0]) / (bytes.length - 1)) : bytes[0] ?? 0,
      contracts,
      held: Object.values(contracts).every(Boolean),
      violationLog: world.log.filter((l) => l.includes('VIOLATION')),
      week,
    };
  } finally {
    await world.close();
  }
}

export function printMonth(r: MonthReport): string {
  const o = r.options;
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  return [
    `simulated month: ${o.days} days, ${o.hosts} hosts × ${o.slotsPerHost} slots, ${o.maxLiveTasks} live tasks, ${o.itemsPerDay} new items a day (seed ${o.seed}; ${r.wallSeconds} s wall)`,
    `  throughput: ${r.merged} merged; per simulated day ${r.mergedPerDay.join(' ')}`,
    `  process CPU per merged task: ${r.cpuMsPerMerged} ms (engine + simulated world, one process)`,
    `  DB size by day (MiB): ${r.dbBytesPerDay.map(mib).join(' ')}; growth ${mib(r.dbGrowthBytesPerDay)} MiB a day`,
    `  contracts: ${r.held ? 'every one held' : 'BROKEN'}`,
    ...Object.entries(r.contracts).map(([k, v]) => `    ${v ? 'held  ' : 'BROKEN'} ${k}`),
    printReport(r.week),
    ...r.violationLog,
  ].join('\n');
}
