import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromPromise } from 'xstate';
import type { CritiqueOutput, ProvisionOutput, ShipOutput } from '../../machines/effects.js';
import { validateConfig } from '../../src/config/validate.js';
import type { Adapter } from '../../src/config/schema.js';
import { startEngine, type EngineHandle } from '../../src/runtime/engine.js';
import { probePath } from '../../src/gates/environment-gate.js';
import { openDb, type Db } from '../../src/store/db.js';
import { awaitingHumanPrs, simDaySample, skipFsync, taskHistory } from '../../src/store/sim-queries.js';
import { between, prng } from './prng.js';
import { Population, weatherError, type Weather } from './population.js';
import { SimClock } from './sim-clock.js';
import { SimForge } from './sim-forge.js';
import { SimHost } from './sim-host.js';
import { simAgents } from './sim-agents.js';

export interface WorldOptions {
  seed: number;
  days: number;
  tasksPerDay: number;
  /** Random instants per simulated day. */
  killsPerDay?: number;
  restartsPerDay?: number;
  outagesPerDay?: number;
  diskFullPerDay?: number;
  forgeFaultRate?: number;
  /** Outage weather: usage-limit windows of hours (count over the run), and days with an expired API key. */
  rateLimitWindows?: number;
  expiredKeyDays?: number;
  /** A fleet instead of the two default hosts (`local` 3 slots, `spare` 2): `count` hosts `h1…` of `slots` each. */
  fleet?: { count: number; slots: number };
  /** engine.maxLiveTasks (default 12); planTier.maxWorkers (default 5, or the fleet's slots). */
  maxLiveTasks?: number;
  /** How often a running worker's stream is polled (simulated ms; default 30 s). */
  watchIntervalMs?: number;
  /** Budget override (default: $2 a task, $15 soft, $25 hard a day). */
  budget?: { perTaskUsd: number; dailySoftUsd: number; dailyHardUsd: number };
}

/** One sample a simulated day: what the month report reads (merged so far, DB bytes, process CPU). */
export interface DaySample {
  day: number;
  merged: number;
  tasks: number;
  dbBytes: number;
  cpuMs: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
export const START = Date.UTC(2026, 0, 5); // a Monday, midnight UTC: days line up with the budget's days

/** Something that broke a contract: printed with the seed so the run can be replayed. */
export interface Violation {
  what: string;
  task: string;
  at: number;
}

/**
 * A week of oxi on a simulated clock: the real engine, persister, dispatch pool, seeder, reaper,
 * prWatcher and the real runAgent/plan/openPr/runChecks/merge effects, over a simulated host,
 * agent population and forge. Only the effects that need git (provision, ship, critique) are
 * replaced. Kills, restarts, host outages, full disks and forge faults land at seeded instants.
 */
export class World {
  readonly rand: () => number;
  readonly clock = new SimClock(START);
  readonly dir = mkdtempSync(join(tmpdir(), 'oxi-sim-'));
  readonly adapter: Adapter;
  readonly db: Db;
  readonly population: Population;
  readonly forge: SimForge;
  readonly hosts: Map<string, SimHost>;
  readonly violations: Violation[] = [];
  readonly spawns = new Map<string, number[]>();
  readonly log: string[] = [];
  readonly counters = { kills: 0, hardKills: 0, restarts: 0, outages: 0, diskFull: 0, steps: 0, rateLimitWindows: 0, expiredKeyDays: 0 };
  /** The model API's weather now: clear (null), a usage limit, or an expired key. */
  weather: Weather | null = null;
  /** Forge faults that hit a review (the critic's comment): each must lead to a retried review, never a rejection. */
  readonly reviewFaults: Array<{ task: string; at: number }> = [];
  killed = false;
  engine!: EngineHandle;
  /** Called after each (re)boot of the engine: the bench attaches its commit listeners here. */
  onBoot?: (engine: EngineHandle) => void;
  /** Called when a worker is spawned on a simulated host (the wall-clock end of a dispatch). */
  onSpawn?: (task: string) => void;
  readonly daily: DaySample[] = [];
  /** Ends the run early once true (checked between timer deadlines): the dispatch bench stops after its samples. */
  stopWhen?: () => boolean;
  private restartWanted = false;
  private nextItem = 1;
  private shipSeq = 0;

  constructor(readonly options: WorldOptions) {
    this.rand = prng(options.seed);
    const raw = {
      name: 'sim',
      repo: { path: '.', mainBranch: 'main', forge: { kind: 'local' } },
      roadmap: 'ROADMAP.md',
      hosts: hostNames(options).map((name, i) => ({ name, kind: 'local', maxWorkers: options.fleet ? options.fleet.slots : i === 0 ? 3 : 2 })),
      planTier: { maxWorkers: options.fleet ? options.fleet.count * options.fleet.slots : 5 },
      checks: { command: ['true'] },
      agents: { scripted: { script: 'unused.json' }, timeouts: { wallMinutes: 150, stallMinutes: 10 } },
      budget: options.budget ?? { perTaskUsd: 2, dailySoftUsd: 15, dailyHardUsd: 25 },
      policy: { maxAttempts: 3, maxFixAttempts: 2 },
      engine: {
        maxLiveTasks: options.maxLiveTasks ?? 12,
        seedIntervalMs: 5 * MIN,
        reaperIntervalMs: 5 * MIN,
        prWatchIntervalMs: 5 * MIN,
        hostProbeIntervalMs: 5 * MIN,
        stallMs: 15 * MIN,
        deadmanMs: 90 * MIN,
        backoffBaseMs: 2 * MIN,
        backoffMaxMs: 60 * MIN,
      },
    };
    writeFileSync(join(this.dir, 'ROADMAP.md'), '# Roadmap\n\n## Tier 0\n\n');
    this.adapter = validateConfig(raw, { configPath: join(this.dir, 'oxi.config.json') });
    mkdirSync(this.adapter.paths.stateDir, { recursive: true });
    this.db = openDb(this.adapter.paths.db);
    // Durability is the chaos suite's business (real SIGKILLs); here fsyncs would only slow the week down.
    skipFsync(this.db);
    this.population = new Population(this.rand, this.adapter.budget.perTaskUsd);
    this.population.weather = () => this.weather;
    const observer = {
      killed: () => this.killed,
      violation: (what: string, task: string) => {
        const full = what === 'second live worker' ? what : `${what} while killed`;
        this.violations.push({ what: full, task, at: this.clock.now() });
        this.note(`VIOLATION ${full}: ${task}; ${this.history(task)}`);
      },
      spawned: (task: string, _pid: number, at: number) => {
        this.spawns.set(task, [...(this.spawns.get(task) ?? []), at]);
        this.onSpawn?.(task);
      },
      aliveFor: (task: string) => [...this.hosts.values()].reduce((n, h) => n + h.alive().filter((p) => p.task === task).length, 0),
    };
    this.forge = new SimForge(this.rand, this.population, observer);
    this.forge.faultRate = options.forgeFaultRate ?? 0.03;
    this.hosts = new Map(hostNames(options).map((n) => [n, new SimHost(n, this.clock, this.population, observer)]));
  }

  // ------------------------------------------------------------ the engine

  /** The effects that would need git, simulated; parked while killed like every gated effect. */
  private effects() {
    const gate = <I, O>(fn: (input: I) => O | Promise<O>) =>
      fromPromise<O, I>(async ({ input }) => {
        if (this.killed) return new Promise<never>(() => {});
        return fn(input);
      });
    return {
      provision: gate((input: { taskId: string }): ProvisionOutput => ({ branch: `oxi/${input.taskId.toLowerCase()}`, worktree: join(this.adapter.paths.worktreesRoot, input.taskId), baseSha: 'base' })),
      ship: gate((input: { taskId: string; attempt: number }): ShipOutput => ({ headSha: `${input.taskId}-a${input.attempt}-${++this.shipSeq}`, empty: false })),
      critique: gate(async (input: { taskId: string; pr: number }): Promise<CritiqueOutput> => {
        try {
          await this.forge.comment();
        } catch (error) {
          this.reviewFaults.push({ task: input.taskId, at: this.clock.now() });
          throw error;
        }
        const w = this.weather;
        if (w) {
          // The critic's API call fails: no verdict (`reasons`: how earlier versions took it, as a rejection).
          const error = weatherError(w).text;
          return { verdict: 'none', outage: w.kind, error, ...(w.kind === 'rate_limited' ? { resetAt: w.until } : {}), reasons: [`the critic failed: ${error}`], costUsd: 0 } as CritiqueOutput;
        }
        const approve = this.population.approves();
        return {
          verdict: approve ? 'approve' : 'reject',
          reasons: approve ? [] : ['the change misses an edge case (simulated)'],
          costUsd: 0.05,
          ledger: [{ kind: 'spend', payload: { usd: 0.05, role: 'critic', task: input.taskId } }],
        };
      }),
    };
  }

  private sample(day: number): void {
    const cpu = process.cpuUsage();
    this.daily.push({ day, ...simDaySample(this.db), cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
  }

  private boot(): void {
    this.engine = startEngine({
      adapter: this.adapter,
      db: this.db,
      clock: this.clock,
      effects: this.effects() as never,
      forge: this.forge,
      hosts: this.hosts as never,
      // Behind the real router, so its routes and the agent gates apply to the simulated backend too.
      backends: { scripted: simAgents(this.population, { killed: () => this.killed, violation: (w, t) => this.violations.push({ what: `${w} while killed`, task: t, at: this.clock.now() }) }) },
      notifier: { notify: async () => {} },
      watchIntervalMs: this.options.watchIntervalMs ?? 30_000,
      onFatal: (error) => this.violations.push({ what: `engine fatal: ${String(error)}`, task: '-', at: this.clock.now() }),
    });
    this.onBoot?.(this.engine);
  }

  private async restart(): Promise<void> {
    this.counters.restarts++;
    this.note('restart (engine stopped and restored from the database)');
    await this.engine.stop();
    this.boot();
  }

  private note(line: string): void {
    this.log.push(`day ${((this.clock.now() - START) / DAY).toFixed(3)}: ${line}`);
  }

  // ------------------------------------------------------------ the world's own events

  private addItems(n: number): void {
    const lines: string[] = [];
    for (let i = 0; i < n; i++, this.nextItem++) {
      lines.push(`**T0-${this.nextItem} · Add fn${this.nextItem}**\n_Export fn${this.nextItem} with a test._\n`);
    }
    appendFileSync(join(this.dir, 'ROADMAP.md'), `${lines.join('\n')}\n`);
  }

  /** Schedules `count` windows of `fn` at random instants in [from, to), each lasting [minMs, maxMs]. */
  private windows(count: number, from: number, to: number, minMs: number, maxMs: number, on: () => void, off: () => void): void {
    for (let i = 0; i < count; i++) {
      const at = from + Math.floor(this.rand() * (to - from));
      const len = between(this.rand, minMs, maxMs);
      this.clock.setTimeout(on, at - this.clock.now());
      this.clock.setTimeout(off, at + len - this.clock.now());
    }
  }

  private schedule(): void {
    const o = this.options;
    const end = START + o.days * DAY;
    // The roadmap grows all week long, in batches every 3 hours (last batch half a day before the end).
    const batches = Math.floor(((o.days - 0.5) * DAY) / (3 * HOUR));
    let carry = 0;
    for (let b = 0; b <= batches; b++) {
      carry += (o.tasksPerDay * 3) / 24;
      const n = Math.floor(carry);
      carry -= n;
      this.clock.setTimeout(() => this.addItems(n), b * 3 * HOUR);
    }
    this.addItems(0);
    const per = (rate = 0) => Math.round(rate * o.days);
    this.windows(per(o.killsPerDay ?? 1), START + HOUR, end - 2 * HOUR, 10 * MIN, 2 * HOUR,
      () => {
        if (this.killed) return;
        const hard = this.rand() < 0.3;
        this.counters.kills++;
        if (hard) this.counters.hardKills++;
        this.note(`kill${hard ? ' --hard' : ''}`);
        this.killed = true; // from this instant no side effect may start
        this.engine.send('engineState', { type: 'engine.kill', reason: 'simulated operator', by: 'sim', hard });
      },
      () => {
        if (!this.killed) return;
        this.note('unkill');
        this.killed = false; // resumed effects start synchronously inside the send
        this.engine.send('engineState', { type: 'engine.unkill', by: 'sim' });
      },
    );
    for (let i = 0; i < per(o.restartsPerDay ?? 2); i++) this.clock.setTimeout(() => (this.restartWanted = true), Math.floor(this.rand() * (end - START)));
    // Host outages: the default world loses `spare`; a fleet loses a host picked at random each time.
    const names = [...this.hosts.keys()];
    for (let i = 0; i < per(o.outagesPerDay ?? 1); i++) {
      const host = this.hosts.get(o.fleet ? names[Math.floor(this.rand() * names.length)] : 'spare')!;
      this.windows(1, START, end, 20 * MIN, 90 * MIN,
        () => ((host.down = true), this.counters.outages++, this.note(`host ${host.name} unreachable`)),
        () => ((host.down = false), this.note(`host ${host.name} back`)),
      );
    }
    // One sample a day (and one at the end): throughput, DB growth and process CPU for the month report.
    for (let d = 1; d <= o.days; d++) this.clock.setTimeout(() => this.sample(d), d * DAY - 1);
    // Outage weather: a plan's usage limit for hours (it names its reset time), and an API key expired for a day.
    this.windows(o.rateLimitWindows ?? 0, START + HOUR, end - DAY, 2 * HOUR, 5 * HOUR,
      () => {
        if (this.weather) return;
        this.counters.rateLimitWindows++;
        const until = this.clock.now() + between(this.rand, 2 * HOUR, 5 * HOUR);
        this.weather = { kind: 'rate_limited', until };
        this.clock.setTimeout(() => this.weather?.kind === 'rate_limited' && (this.weather = null, this.note('usage limit reset')), until - this.clock.now());
        this.note('usage limit reached');
      },
      () => undefined,
    );
    for (let d = 0; d < (o.expiredKeyDays ?? 0); d++) {
      const at = START + DAY + Math.floor(this.rand() * (end - START - 3 * DAY));
      this.clock.setTimeout(() => ((this.weather = { kind: 'auth', until: at + DAY }), this.counters.expiredKeyDays++, this.note('API key expired')), at - this.clock.now());
      this.clock.setTimeout(() => ((this.weather = null), this.note('API key renewed')), at + DAY - this.clock.now());
    }
    this.windows(per(o.diskFullPerDay ?? 0.5), START, end, 10 * MIN, 40 * MIN,
      () => {
        this.counters.diskFull++;
        this.note('logs disk full');
        for (const h of this.hosts.values()) h.diskFull = true;
        // The engine's probe of the logs dir hits the same full disk: a real ENOSPC from /dev/full.
        const probe = probePath(this.adapter.paths.logs);
        mkdirSync(this.adapter.paths.logs, { recursive: true });
        rmSync(probe, { force: true });
        symlinkSync('/dev/full', probe);
      },
      () => {
        this.note('logs disk has space again');
        for (const h of this.hosts.values()) h.diskFull = false;
        rmSync(probePath(this.adapter.paths.logs), { force: true });
      },
    );
    // A human reviews PRs the engine left for them, and now and then acts on one behind its back.
    const human = () => {
      const waiting = new Set(
        awaitingHumanPrs(this.db, this.clock.now() - HOUR),
      );
      for (const pr of this.forge.openPrs()) if (waiting.has(pr.number) || this.rand() < 0.004) this.forge.humanActs(pr.number);
      this.clock.setTimeout(human, 15 * MIN);
    };
    this.clock.setTimeout(human, 15 * MIN);
  }

  // ------------------------------------------------------------ the driver

  /** Runs the whole simulated span: from one timer deadline to the next, letting promises settle between. */
  async run(): Promise<void> {
    const end = START + this.options.days * DAY;
    this.boot();
    this.schedule();
    while (this.clock.now() < end && !this.stopWhen?.()) {
      await settle();
      if (this.restartWanted) {
        this.restartWanted = false;
        await this.restart();
        continue;
      }
      const next = this.clock.nextAt();
      if (next === undefined) break;
      this.clock.fireUntil(Math.min(next, end));
      this.counters.steps++;
      if (this.engine.failure) throw new Error(`the engine failed on day ${((this.clock.now() - START) / DAY).toFixed(2)}: ${String(this.engine.failure)}`);
    }
    await settle();
  }

  /** A task's recent ledger and its reason, for a violation's line: enough to see how it got there. */
  private history(task: string): string {
    const { rows, reason } = taskHistory(this.db, task);
    return `ledger (day): ${rows.map((r) => `${((r.at - START) / DAY).toFixed(3)} ${r.kind}`).join(', ')}; reason: ${reason ?? '-'}`;
  }

  async close(): Promise<void> {
    await this.engine?.stop();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The default world's two hosts, or a fleet's `h1…hN`. */
function hostNames(o: WorldOptions): string[] {
  return o.fleet ? Array.from({ length: o.fleet.count }, (_, i) => `h${i + 1}`) : ['local', 'spare'];
}

/** Lets every promise the last timers resolved run to its next wait. */
async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}

export { DAY, HOUR, MIN };
