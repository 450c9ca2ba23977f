// Over 400 lines on purpose: the engine fixtures (beds, parked effects, quiesce) are shared by figures 1-5; splitting them out is its own change.
/**
 * oxi engine benchmark: `npm run bench` (= build + `node --expose-gc dist/bench/run.js`).
 * Prints ratios and medians side by side with their targets; never asserts a timing.
 * `--json` prints one JSON object with every figure instead of the table.
 * See docs/bench.md for what each figure means.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fromPromise } from 'xstate';
import { fromEffect } from '../actors/effects/effect-logic.js';
import { restoreList } from '../actors/effects/background.js';
import { LocalHost } from '../actors/hosts/local-host.js';
import { EFFECT_NAMES, effectPlaceholders, type Plan, type PlanOutput, type TaskBoot, type TaskRef } from '../machines/effects.js';
import { systemClock } from '../src/clock.js';
import { loadAdapter } from '../src/config/load.js';
import type { Adapter } from '../src/config/schema.js';
import { validateConfig } from '../src/config/validate.js';
import { createSampleProject } from '../src/demo/sample-project.js';
import type { Forge, HostTransport, Notifier } from '../src/ports.js';
import { startEngine, type EngineHandle } from '../src/runtime/engine.js';
import type { CommittedChange } from '../src/store/persister.js';
import { openDb, type Db } from '../src/store/db.js';
import { listTasks } from '../src/store/tasks.js';
import { benchEndToEnd, benchRestoreAfterKill, ingestInChild, runScaleChild } from './scale.js';
import { benchSandboxLaunch } from './sandbox.js';
import { benchSetupCache } from './setup.js';
import { benchShards } from './shards.js';
import { benchDispatchSim } from './dispatch-sim.js';
import { bareBlobWriter, checkpointTruncate, countTasksWithWorker, persistedBytes, seedTaskRows, setSynchronous, setWalAutocheckpoint, walFrameBytes } from '../src/store/probes.js';
import { countEventsOfActor } from '../src/store/ledger-queries.js';

type Effects = typeof effectPlaceholders;

const JSON_MODE = process.argv.includes('--json');
const QUICK = process.argv.includes('--quick');
/** Progress goes to stderr so `--json` keeps stdout to the JSON object. */
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

const gc = (): boolean => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) return false;
  g();
  g();
  return true;
};
const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs: number[], p: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const round = (n: number, d = 3): number => (Number.isFinite(n) ? Number(n.toFixed(d)) : n);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const never = <T>() => new Promise<T>(() => {});

// ---------------------------------------------------------------- engine fixtures

const silentNotifier: Notifier = { notify: async () => {} };
/** Only what the pool's overlap gate reads; every other forge call is behind a stubbed effect. */
const stubForge = { listOpenPrs: async () => [] } as unknown as Forge;

/** Every effect parked: invocations start and never settle, so each actor sits in the state it entered. */
function parkedEffects(): Effects {
  const parked = fromEffect<never, unknown>(() => never());
  return Object.fromEntries(EFFECT_NAMES.map((n) => [n, parked])) as unknown as Effects;
}

const PLAN: Plan = { files_touched: ['src/a.js', 'test/a.test.js'], tests: ['test/a.test.js'], dependencies: [], risk: 'low', summary: 'bench plan' };

interface Bed {
  dir: string;
  adapter: Adapter;
  db: Db;
}

/** A temp state dir with a validated adapter and a fresh DB (openDb defaults: WAL, synchronous=FULL). */
function makeBed(label: string): Bed {
  const dir = mkdtempSync(join(os.tmpdir(), `oxi-bench-${label}-`));
  const raw = {
    name: 'bench',
    repo: { path: '.', mainBranch: 'main', forge: { kind: 'local' } },
    hosts: [{ name: 'local', kind: 'local', maxWorkers: 8 }],
    planTier: { maxWorkers: 8 },
    checks: { command: ['true'], timeoutMs: 10_000 },
    agents: { scripted: { script: 'script.json' } },
    engine: { maxLiveTasks: 5000 },
  };
  const adapter = validateConfig(raw, { configPath: join(dir, 'oxi.config.json') });
  const db = openDb(adapter.paths.db);
  return { dir, adapter, db };
}

function dropBed(bed: Bed): void {
  try {
    bed.db.close();
  } catch {
    /* already closed */
  }
  rmSync(bed.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

const taskId = (i: number) => `T${i % 3}-${1001 + i}`;

/** N task rows as the seeder would leave them, with no snapshot: the engine boots them fresh. */
function insertTasks(db: Db, n: number, status: string): string[] {
  const rows = Array.from({ length: n }, (_, i) => ({
    id: taskId(i),
    repo: 'bench',
    tier: i % 3,
    title: `Add \`fn${i}(x)\` to the math library`,
    description: `Export \`fn${i}\` from \`src/fn${i}.js\`, returning \`x * ${(i % 7) + 2}\`, with a test.`,
    status,
    seq: i,
  }));
  seedTaskRows(db, rows, Date.now());
  return rows.map((r) => r.id);
}

function boot(bed: Bed, effects: Partial<Effects>): EngineHandle {
  return startEngine({
    adapter: bed.adapter,
    db: bed.db,
    clock: systemClock,
    effects,
    forge: stubForge,
    hosts: new Map<string, HostTransport>(),
    agents: {} as never,
    notifier: silentNotifier,
    onFatal: (error) => {
      throw error;
    },
  });
}

/** Resolves with the time of the commit at which `done` first holds over the committed changes seen so far. */
function commitWhen(handle: EngineHandle, done: (change: CommittedChange) => boolean, timeoutMs = 60_000): Promise<{ at: number; commits: number }> {
  return new Promise((resolve, reject) => {
    let commits = 0;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a commit`));
    }, timeoutMs);
    const off = handle.onCommit((changes) => {
      commits++;
      let hit = false;
      for (const c of changes) if (done(c)) hit = true;
      if (hit) {
        clearTimeout(timer);
        off();
        resolve({ at: performance.now(), commits });
      }
    });
  });
}

/** A predicate that becomes true once every id in `ids` has committed with `status`. */
function allReach(ids: Iterable<string>, status: string) {
  const left = new Set([...ids].map((id) => `task:${id}`));
  return (c: CommittedChange) => {
    if (c.status === status) left.delete(c.actor);
    return left.size === 0;
  };
}

/** Waits until no commit has happened for `quietMs`. */
async function quiesce(handle: EngineHandle, quietMs = 150, maxMs = 30_000): Promise<void> {
  let last = performance.now();
  const off = handle.onCommit(() => (last = performance.now()));
  const start = performance.now();
  try {
    while (performance.now() - last < quietMs && performance.now() - start < maxMs) await sleep(quietMs / 3);
  } finally {
    off();
  }
}

// ---------------------------------------------------------------- 1. persisted transition vs bare insert

interface WriteFigures {
  persistedUs: number;
  bareUs: number;
  ratio: number;
  /** The flush alone (snapshot, rows, commit): the persisted transition minus xstate's transition. */
  commitUs: number;
  commitRatio: number;
  bytes: number;
  samples: number;
}

async function benchPersistedTransition() {
  progress('1/5 persisted transition vs bare INSERT (FULL, then NORMAL for context)');
  const bed = makeBed('write');
  try {
    const [id] = insertTasks(bed.db, 1, 'planning');
    const handle = boot(bed, parkedEffects());
    await quiesce(handle);
    const actor = `task:${id}`;
    const db = bed.db;
    const persister = handle.persister;

    // One kill/resume cycle first, so the snapshot carries its usual history value, then size the writes.
    handle.send(actor, { type: 'engine.killed', reason: 'bench', hard: false });
    persister.flush();
    handle.send(actor, { type: 'engine.resumed' });
    persister.flush();
    const bytes = persistedBytes(db, actor, id);
    const bare = bareBlobWriter(db);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789{}":,';
    let body = '';
    for (let i = 0; i < bytes; i++) body += alphabet[(i * 7919) % alphabet.length];

    const run = (n: number): WriteFigures => {
      const persisted: number[] = [];
      const commits: number[] = [];
      const plain: number[] = [];
      for (let i = 0; i < n; i++) {
        // Interleaved, so fsync jitter and WAL checkpoints fall on both sides alike.
        const ev = i % 2 === 0 ? { type: 'engine.killed', reason: 'bench', hard: false } : { type: 'engine.resumed' };
        let t0 = performance.now();
        handle.send(actor, ev);
        const t1 = performance.now();
        persister.flush(); // the flush the persister would run on the next microtask, run now to time it alone
        const t2 = performance.now();
        persisted.push(t2 - t0);
        commits.push(t2 - t1);
        t0 = performance.now();
        bare(body);
        plain.push(performance.now() - t0);
      }
      const p = median(persisted) * 1000;
      const b = median(plain) * 1000;
      const c = median(commits) * 1000;
      return { persistedUs: round(p, 1), bareUs: round(b, 1), ratio: round(p / b, 2), commitUs: round(c, 1), commitRatio: round(c / b, 2), bytes, samples: n };
    };
    const n = QUICK ? 200 : 1000;
    run(50); // warm-up
    const full = run(n);
    setSynchronous(db, 'NORMAL');
    run(50);
    const normal = run(n);
    setSynchronous(db, 'FULL');
    const events = countEventsOfActor(db, actor);
    const walPagesPerCommit = walPagesOf(bed, handle, actor, bare, body);
    // Last, as a paused persister stays paused.
    const inMemoryUs = inMemorySendUs(handle, actor, n);
    await handle.stop();
    return { full, normal, inMemoryUs, walPagesPerCommit, ledgerRows: events };
  } finally {
    dropBed(bed);
  }
}

/** Where the fsync side goes: WAL frames (pages) appended per commit, persisted transition and bare INSERT each alone. */
function walPagesOf(bed: Bed, handle: EngineHandle, actor: string, bare: ReturnType<typeof bareBlobWriter>, body: string) {
  const db = bed.db;
  const persister = handle.persister;
  const walFile = `${bed.adapter.paths.db}-wal`;
  const frame = walFrameBytes(db);
  const framesPer = (fn: (i: number) => void, k = 100): number => {
    checkpointTruncate(db);
    const before = statSync(walFile).size;
    for (let i = 0; i < k; i++) fn(i);
    return round((statSync(walFile).size - before) / frame / k, 2);
  };
  setWalAutocheckpoint(db, 0);
  const walPagesPerCommit = {
    persisted: framesPer((i) => {
      handle.send(actor, i % 2 === 0 ? { type: 'engine.killed', reason: 'bench', hard: false } : { type: 'engine.resumed' });
      persister.flush();
    }),
    bare: framesPer(() => bare(body)),
  };
  setWalAutocheckpoint(db, 1000);
  return walPagesPerCommit;
}

/** The in-memory share: the same transitions with the persister paused (no SQLite at all). Leaves the persister paused. */
function inMemorySendUs(handle: EngineHandle, actor: string, n: number): number {
  const persister = handle.persister;
  persister.pause();
  const mem: number[] = [];
  for (let i = 0; i < 2 * n; i++) {
    const t0 = performance.now();
    handle.send(actor, i % 2 === 0 ? { type: 'engine.killed', reason: 'bench', hard: false } : { type: 'engine.resumed' });
    mem.push(performance.now() - t0);
  }
  return round(median(mem.slice(n)) * 1000, 1);
}

// ---------------------------------------------------------------- 2. kill propagation (durable)

async function benchKill(n: number, runs: number) {
  progress(`2/5 kill propagation to ${n} live task actors (${runs} runs)`);
  const bed = makeBed(`kill${n}`);
  try {
    const ids = insertTasks(bed.db, n, 'planning');
    const t0 = performance.now();
    const handle = boot(bed, parkedEffects());
    const bootSync = performance.now() - t0;
    if (handle.liveTasks().length !== n) throw new Error(`expected ${n} live tasks, got ${handle.liveTasks().length}`);
    await quiesce(handle);
    const total: number[] = [];
    const sync: number[] = [];
    const commitsNeeded: number[] = [];
    const resume: number[] = [];
    for (let r = 0; r < runs; r++) {
      const held = commitWhen(handle, allReach(ids, 'held'));
      const start = performance.now();
      if (!handle.send('engineState', { type: 'engine.kill', reason: 'bench', by: 'bench' })) throw new Error('no engineState actor');
      sync.push(performance.now() - start);
      const { at, commits } = await held;
      total.push(at - start);
      commitsNeeded.push(commits);
      if (!handle.liveTasks().every((t) => t.status === 'held')) throw new Error('not every task is held');
      await quiesce(handle, 50);
      const back = commitWhen(handle, allReach(ids, 'planning'));
      const rs = performance.now();
      handle.send('engineState', { type: 'engine.unkill', by: 'bench' });
      resume.push((await back).at - rs);
      await quiesce(handle, 50);
    }
    const st = performance.now();
    await handle.stop();
    const stopMs = performance.now() - st;
    return {
      tasks: n,
      runs,
      medianMs: round(median(total), 2),
      firstMs: round(total[0], 2),
      minMs: round(Math.min(...total), 2),
      maxMs: round(Math.max(...total), 2),
      allMs: total.map((x) => round(x, 1)),
      sendReturnedMedianMs: round(median(sync), 2),
      persistAfterSendMedianMs: round(median(total.map((x, i) => x - sync[i])), 2),
      commitsUntilAllHeld: Math.max(...commitsNeeded),
      resumeMedianMs: round(median(resume), 2),
      bootSyncMs: round(bootSync, 1),
      stopMs: round(stopMs, 1),
    };
  } finally {
    dropBed(bed);
  }
}

// ---------------------------------------------------------------- 3. dispatch latency

interface DispatchSample {
  waiting?: number;
  free?: boolean;
  provisioning?: number;
  working?: number;
  pid?: number;
}

/** `rounds` fresh sample projects of `tasks` items each; every task's timestamps are pooled. */
async function benchDispatch(tasks: number, label: string, rounds: number) {
  progress(`3/5 dispatch latency on a sample project (${label}: ${rounds} × ${tasks} task(s), real effects, scripted agent)`);
  const samples: DispatchSample[] = [];
  let recorded = 0;
  for (let r = 0; r < rounds; r++) {
    const one = await dispatchRound(tasks);
    samples.push(...one.samples);
    recorded += one.recorded;
  }
  const rows = samples.filter((r) => r.waiting !== undefined && r.pid !== undefined);
  const counted = rows.filter((r) => r.free);
  const lat = counted.map((r) => r.pid! - r.waiting!);
  const claim = counted.filter((r) => r.provisioning).map((r) => r.provisioning! - r.waiting!);
  const prov = counted.filter((r) => r.provisioning && r.working).map((r) => r.working! - r.provisioning!);
  const spawn = counted.filter((r) => r.working).map((r) => r.pid! - r.working!);
  return {
    label,
    tasks,
    rounds,
    capacity: tasks,
    counted: counted.length,
    spawned: rows.length,
    workerPidsInDb: recorded,
    medianMs: round(median(lat), 1),
    minMs: round(Math.min(...lat), 1),
    p90Ms: round(pct(lat, 90), 1),
    maxMs: round(Math.max(...lat), 1),
    allMs: lat.map((x) => round(x, 1)),
    breakdownMedianMs: {
      waitingToProvisioning: round(median(claim), 1),
      provisioningToWorking: round(median(prov), 1),
      workingToPid: round(median(spawn), 1),
    },
  };
}

async function dispatchRound(tasks: number): Promise<{ samples: DispatchSample[]; recorded: number }> {
  const dir = mkdtempSync(join(os.tmpdir(), 'oxi-bench-dispatch-'));
  const project = join(dir, 'project');
  const capacity = tasks;
  let handle: EngineHandle | undefined;
  let db: Db | undefined;
  try {
    const { configPath } = createSampleProject({ dir: project, tasks });
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    config.hosts = [{ name: 'local', kind: 'local', maxWorkers: capacity }];
    config.planTier = { maxWorkers: capacity };
    config.engine = { ...config.engine, maxLiveTasks: Math.max(20, tasks), hostProbeIntervalMs: 600_000 };
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const adapter = await loadAdapter({ configPath });
    db = openDb(adapter.paths.db);

    const t: Record<string, DispatchSample> = {};
    const at = (id: string) => (t[id] ??= {});
    // The real local host, with the moment each worker process started noted (its 'spawn' event).
    const local = new LocalHost('local');
    const spawnDetached = local.spawnDetached.bind(local);
    local.spawnDetached = async (argv, options) => {
      const out = await spawnDetached(argv, options);
      const id = basename(options.cwd ?? '');
      if (at(id).pid === undefined) at(id).pid = performance.now();
      return out;
    };
    // The real probe caps capacity at cpus − load5: pin it, so every task finds a free slot.
    const probeHost = fromPromise<{ capacity: number; inUse: number }, { host: string }>(async ({ input }) => {
      await null;
      handle!.pool.setCapacity(input.host, capacity);
      return { capacity, inUse: handle!.pool.inUse(input.host) };
    });
    handle = startEngine({
      adapter,
      db,
      clock: systemClock,
      effects: { probeHost },
      hosts: new Map<string, HostTransport>([['local', local]]),
      notifier: silentNotifier,
      onFatal: (error) => progress(`dispatch engine fatal: ${String(error)}`),
    });
    const h = handle;
    h.onCommit((changes) => {
      for (const c of changes) {
        if (c.machine !== 'task') continue;
        const rec = at(c.actor.slice('task:'.length));
        if (c.status === 'waiting' && rec.waiting === undefined) {
          rec.waiting = performance.now();
          // Counted only if a slot was free when it became ready (no waiting behind another task).
          const hosts = h.pool.hosts();
          const host = hosts.find((x) => x.name === 'local');
          const leases = hosts.reduce((sum, x) => sum + x.inUse, 0);
          rec.free = !!host && !host.blocked && host.inUse < host.capacity && leases < adapter.planTier.maxWorkers;
        } else if (c.status === 'provisioning' && rec.provisioning === undefined) rec.provisioning = performance.now();
        else if (c.status === 'working' && rec.working === undefined) rec.working = performance.now();
      }
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && Object.values(t).filter((r) => r.pid !== undefined).length < tasks) await sleep(20);
    const recorded = countTasksWithWorker(db);
    await h.drain(0); // terminate the scripted workers rather than leave them detached
    handle = undefined;
    return { samples: Object.values(t), recorded };
  } finally {
    if (handle) await handle.drain(0).catch(() => undefined);
    try {
      db?.close();
    } catch {
      /* closed */
    }
    await sleep(200); // let `git`/checks children spawned by in-flight effects finish writing
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

// ---------------------------------------------------------------- 4. memory per idle task actor

async function benchMemory(n: number) {
  progress(`4/5 heap and RSS per idle task actor (0 vs ${n})`);
  const bed = makeBed('mem');
  try {
    const ids = insertTasks(bed.db, n, 'queued'); // rows exist before the baseline: only actors are counted
    const handle = boot(bed, parkedEffects());
    await quiesce(handle);
    const hasGc = gc();
    const before = process.memoryUsage();
    const boots: TaskBoot[] = listTasks(bed.db).map((r) => ({ id: r.id, title: r.title, description: r.description, tier: r.tier, attempt: r.attempt }));
    const spawned = commitWhen(handle, allReach(ids, 'planning'));
    const t0 = performance.now();
    handle.send('engine', { type: 'tasks.spawn', tasks: boots });
    const spawnSync = performance.now() - t0;
    const { at } = await spawned;
    const spawnDurable = at - t0;
    await quiesce(handle);
    boots.length = 0;
    gc();
    const after = process.memoryUsage();
    if (handle.liveTasks().length !== n) throw new Error(`expected ${n} live tasks, got ${handle.liveTasks().length}`);
    await handle.stop();
    return {
      tasks: n,
      gc: hasGc,
      heapBytesPerActor: Math.round((after.heapUsed - before.heapUsed) / n),
      rssBytesPerActor: Math.round((after.rss - before.rss) / n),
      heapDeltaMiB: round((after.heapUsed - before.heapUsed) / 2 ** 20, 2),
      rssDeltaMiB: round((after.rss - before.rss) / 2 ** 20, 2),
      heapTotalDeltaMiB: round((after.heapTotal - before.heapTotal) / 2 ** 20, 2),
      externalDeltaMiB: round((after.external - before.external) / 2 ** 20, 2),
      spawnSyncMs: round(spawnSync, 1),
      spawnDurableMs: round(spawnDurable, 1),
    };
  } finally {
    dropBed(bed);
  }
}

// ---------------------------------------------------------------- 5. restore

async function benchRestore(n: number, runs: number) {
  progress(`5/5 restore of ${n} persisted mid-flight tasks (${runs} runs)`);
  const bed = makeBed('restore');
  try {
    const ids = insertTasks(bed.db, n, 'planning');
    // Mid-flight: planned (the plan is in context), now queued in the real dispatch pool with no capacity.
    // The real claimSlot (left out here): each restored task parks in the pool's waiter queue.
    const { claimSlot: _real, ...parked } = parkedEffects();
    const effects: Partial<Effects> = { ...parked, plan: fromPromise<PlanOutput, TaskRef & { title: string; description: string }>(async () => ({ ok: true, plan: PLAN, costUsd: 0.01 })) };
    let handle = boot(bed, effects);
    await commitWhen(handle, allReach(ids, 'waiting'));
    await quiesce(handle);
    const total: number[] = [];
    const sync: number[] = [];
    const stops: number[] = [];
    // startEngine primes the persister with one listTasks(db) per restored task: one call is timed
    // (30 times, just before each boot, so under the same load) to attribute the boot time.
    const calls: number[] = [];
    for (let r = 0; r < runs; r++) {
      let s = performance.now();
      await handle.stop();
      stops.push(performance.now() - s);
      for (let i = 0; i < 30; i++) {
        s = performance.now();
        listTasks(bed.db).find((row) => row.id === ids[i]);
        calls.push(performance.now() - s);
      }
      gc();
      s = performance.now();
      handle = boot(bed, effects);
      sync.push(performance.now() - s);
      const live = handle.liveTasks();
      if (live.length !== n || !live.every((x) => x.status === 'waiting')) throw new Error(`restore: ${live.length} live, ${live.filter((x) => x.status === 'waiting').length} waiting`);
      const { at } = await commitWhen(handle, () => true); // the boot's first transaction (restored snapshots re-persisted)
      total.push(at - s);
      await quiesce(handle, 100);
    }
    const s = performance.now();
    await handle.stop();
    stops.push(performance.now() - s);

    // Where the boot goes, outside the engine: the same reads startEngine does.
    const r0 = performance.now();
    const list = restoreList({ db: bed.db });
    const restoreListMs = performance.now() - r0;
    if (list.length !== n) throw new Error(`restoreList: ${list.length} of ${n}`);
    const listTasksMs = median(calls);
    return {
      tasks: n,
      runs,
      medianMs: round(median(total), 1),
      startEngineReturnedMedianMs: round(median(sync), 1),
      stopMedianMs: round(median(stops), 1),
      parts: { restoreListMs: round(restoreListMs, 1), listTasksCallMs: round(listTasksMs, 2) },
    };
  } finally {
    dropBed(bed);
  }
}

// ---------------------------------------------------------------- main

/** `--only=1,2` runs a subset (profiling); the default runs all ten. */
const ONLY = new Set(
  (process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? '1,2,3,4,5,6,7,8,9,10,11,12')
    .split(',')
    .map((x) => x.trim()),
);
const wants = (n: number) => ONLY.has(String(n));

/**
 * RSS only means something in a process that has not yet freed the other scenarios' memory:
 * the memory figure runs in a fresh child (`--child=memory`), which prints its JSON.
 */
function memoryInChild(n: number): Awaited<ReturnType<typeof benchMemory>> {
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child=memory', `--tasks=${n}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out);
}

/** Runs each figure asked for (`--only`), in order; an unasked figure is undefined. */
async function collectFigures() {
  const write = wants(1) ? await benchPersistedTransition() : undefined;
  const kill100 = wants(2) ? await benchKill(100, QUICK ? 3 : 7) : undefined;
  const kill1000 = wants(2) ? await benchKill(1000, QUICK ? 3 : 5) : undefined;
  const dispatchSingle = wants(3) ? await benchDispatch(1, 'single', QUICK ? 1 : 3) : undefined;
  const dispatch = wants(3) ? await benchDispatch(10, 'burst', 1) : undefined;
  const memory = wants(4) ? memoryInChild(1000) : undefined;
  const restore = wants(5) ? await benchRestore(1000, QUICK ? 1 : 3) : undefined;
  const self = fileURLToPath(import.meta.url);
  if (wants(6)) progress('6/8 10,000 roadmap items ingested, 1,000 live task actors (fresh process)');
  const scale = wants(6) ? ingestInChild(self, 10_000, 1000) : undefined;
  if (wants(7)) progress('7/8 restore of 1,000 mid-flight tasks after SIGKILL (fresh processes)');
  const killRestore = wants(7) ? await benchRestoreAfterKill(self, 1000) : undefined;
  const e2eTasks = QUICK ? 10 : 100;
  if (wants(8)) progress(`8/8 end to end: oxi demo with ${e2eTasks} tasks vs the same git work without the engine`);
  const e2e = wants(8) ? await benchEndToEnd(e2eTasks) : undefined;
  if (wants(9)) progress('9/9 sandbox cost per agent launch: `node -e 0` unsandboxed vs sandboxed, alternately');
  const sandbox = wants(9) ? await benchSandboxLaunch(QUICK ? 10 : 40) : undefined;
  if (wants(10)) progress('10/10 workspace setup: a real npm ci in ten fresh workspaces of one repository, first vs tenth');
  const setupCache = wants(10) ? await benchSetupCache(10) : undefined;
  const shards = wants(11) ? await benchShards({ quick: QUICK, progress }) : undefined;
  const dispatchSim = wants(12) ? await benchDispatchSim({ quick: QUICK, progress }) : undefined;
  return { write, kill100, kill1000, dispatchSingle, dispatch, memory, restore, scale, killRestore, e2e, sandbox, setupCache, shards, dispatchSim };
}

/** The table's rows: one block per figure measured, each with its target where it has one. */
function tableRows(figures: Awaited<ReturnType<typeof collectFigures>>): Array<[string, string, string, string]> {
  const { write, kill100, kill1000, dispatchSingle, dispatch, memory, restore, scale, killRestore, e2e, sandbox, setupCache } = figures;
  const rows: Array<[string, string, string, string]> = [];
  const vs = (v: number, target: number) => (Number.isFinite(v) ? `${(v / target).toFixed(2)}× of target` : '');
  if (write) {
    const w = write.full;
    rows.push(['1  persisted task transition, FULL (median)', `${w.persistedUs} µs`, '', '']);
    rows.push([`   bare INSERT of ${w.bytes} B in its own txn, FULL`, `${w.bareUs} µs`, '', '']);
    rows.push(['   ratio persisted / bare', `${w.ratio}×`, '≤ 1.5×', vs(w.ratio, 1.5)]);
    rows.push(['   its commit alone (snapshot + rows + fsync) / bare', `${w.commitUs} µs, ${w.commitRatio}×`, '', '']);
    rows.push(['   same pair at synchronous=NORMAL (CPU side)', `${write.normal.persistedUs} / ${write.normal.bareUs} µs`, '', `(${write.normal.ratio}×)`]);
    rows.push(['   in-memory part: send() alone, no write', `${write.inMemoryUs} µs`, '', '']);
    rows.push(['   WAL pages appended per commit: persisted / bare', `${write.walPagesPerCommit.persisted} / ${write.walPagesPerCommit.bare}`, '', '']);
  }
  for (const k of [kill100, kill1000]) {
    if (!k) continue;
    const at1000 = k.tasks === 1000;
    rows.push([`2  kill → all ${k.tasks} tasks held, committed (median of ${k.runs})`, `${k.medianMs} ms`, at1000 ? '≤ 50 ms' : '', at1000 ? vs(k.medianMs, 50) : '']);
    rows.push([`   first (cold) / min / max, ${k.tasks}`, `${k.firstMs} / ${k.minMs} / ${k.maxMs} ms`, '', '']);
    rows.push([`   in-memory (send() returned) + commit, ${k.tasks}`, `${k.sendReturnedMedianMs} + ${k.persistAfterSendMedianMs} ms`, '', `${k.commitsUntilAllHeld} txn`]);
    rows.push([`   resume (engine.unkill → all back), ${k.tasks}`, `${k.resumeMedianMs} ms`, '', '']);
  }
  for (const d of [dispatchSingle, dispatch]) {
    if (!d) continue;
    rows.push([`3  dispatch waiting → worker pid, ${d.label} ${d.rounds}×${d.tasks} (median of ${d.counted})`, `${d.medianMs} ms`, '≤ 100 ms', vs(d.medianMs, 100)]);
    const b = d.breakdownMedianMs;
    rows.push(['   claim / provision (git worktree) / spawn', `${b.waitingToProvisioning} / ${b.provisioningToWorking} / ${b.workingToPid} ms`, '', d.counted > 1 ? `min ${d.minMs}, max ${d.maxMs}` : '']);
  }
  if (memory) {
    rows.push([`4  heap per idle task actor (0 vs ${memory.tasks}, after gc)`, `${(memory.heapBytesPerActor / 1024).toFixed(1)} KiB`, '', '']);
    rows.push(['   RSS per idle task actor (high-water, fresh process)', `${(memory.rssBytesPerActor / 1024).toFixed(1)} KiB`, '', `heapTotal +${memory.heapTotalDeltaMiB} MiB`]);
    rows.push([`   spawn ${memory.tasks} via tasks.spawn: returned / committed`, `${memory.spawnSyncMs} / ${memory.spawnDurableMs} ms`, '', '']);
  }
  if (restore) {
    rows.push([`5  restore ${restore.tasks} mid-flight tasks → running + committed`, `${restore.medianMs} ms`, '', '']);
    rows.push(['   startEngine() returned / engine stop', `${restore.startEngineReturnedMedianMs} / ${restore.stopMedianMs} ms`, '', '']);
    // startEngine makes each of these reads once; the rest is restoring, starting and persisting the actors.
    const reads = restore.parts.restoreListMs + restore.parts.listTasksCallMs;
    rows.push(['   restoreList() / one listTasks() call', `${restore.parts.restoreListMs} / ${restore.parts.listTasksCallMs} ms`, '', `rest ≈ ${Math.max(0, restore.medianMs - reads).toFixed(0)} ms`]);
  }
  if (scale) {
    rows.push([`6  ${scale.items} roadmap items ingested (real seeder)`, `${scale.ingestMs} ms`, '', `${scale.rows} rows`]);
    rows.push([`   ${scale.live} live task actors: process RSS`, `${scale.rssMiB} MiB`, '≤ 300 MiB', vs(scale.rssMiB, 300)]);
    rows.push(['   heap used / seed + spawn time', `${scale.heapUsedMiB} MiB / ${scale.seedAndSpawnMs} ms`, '', '']);
  }
  if (killRestore) {
    rows.push([`7  restore ${killRestore.tasks} tasks after SIGKILL (startEngine → all live)`, `${killRestore.restoredMs} ms`, '≤ 2 s', vs(killRestore.restoredMs, 2000)]);
    rows.push(['   since process start / wall incl. node start + stop', `${killRestore.sinceProcessStartMs} / ${killRestore.processWallMs} ms`, '', '']);
  }
  if (e2e) {
    rows.push([`8  end to end, ${e2e.tasks} tasks (oxi demo, ${e2e.workers} workers)`, `${(e2e.engineMs / 1000).toFixed(1)} s`, '', `${e2e.merged} merged`]);
    rows.push(['   the same git work alone, sequential', `${(e2e.rawSequentialMs / 1000).toFixed(1)} s`, '', '']);
    rows.push(['   ratio engine / raw git work', `${e2e.ratio}×`, '≤ 1.25×', vs(e2e.ratio, 1.25)]);
  }
  if (sandbox) {
    rows.push([`9  agent launch (node -e 0), median of ${sandbox.runs}: unsandboxed / ${sandbox.kind}`, `${sandbox.plainMs} / ${sandbox.sandboxedMs} ms`, '', sandbox.available ? '' : 'no sandbox here']);
    rows.push(['   of which wrap (launch facts + mounts) / bwrap start + run', `${sandbox.wrapMs} / ${sandbox.bwrapStartMs} ms`, '', '']);
    rows.push(['   ratio sandboxed / unsandboxed launch', `${sandbox.ratio}×`, '', '']);
  }
  if (setupCache) {
    rows.push([`10 workspace setup (npm ci, ${setupCache.sandbox}): first / tenth task`, `${setupCache.firstMs} / ${setupCache.tenthMs} ms`, '', `later median ${setupCache.laterMedianMs} ms`]);
    rows.push(['   ratio tenth / first (the cache at work)', `${setupCache.ratio}×`, '< 1×', '']);
  }
  return rows;
}

async function main() {
  if (await runScaleChild(process.argv)) return;
  const child = process.argv.find((a) => a.startsWith('--child='))?.slice('--child='.length);
  if (child === 'memory') {
    const n = Number(process.argv.find((a) => a.startsWith('--tasks='))?.slice('--tasks='.length) ?? 1000);
    process.stdout.write(JSON.stringify(await benchMemory(n)) + '\n');
    return;
  }
  const started = performance.now();
  const cpus = os.cpus();
  const env = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: `${cpus.length}x ${cpus[0]?.model ?? '?'}`,
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    gc: gc(),
    quick: QUICK,
    only: [...ONLY].sort().join(','),
    loadavgAtStart: os.loadavg().map((x) => round(x, 2)),
  };
  if (!env.gc) progress('warning: run with node --expose-gc (npm run bench) for meaningful heap figures');
  const figures = await collectFigures();
  const { write, kill100, kill1000, dispatchSingle, dispatch, memory, restore, scale, killRestore, e2e, sandbox, setupCache } = figures;
  const result = {
    env,
    persistedTransition: write && { ...write, targetRatio: 1.5 },
    kill: kill100 && kill1000 && { n100: kill100, n1000: kill1000, targetMsAt1000: 50 },
    dispatch: dispatch && dispatchSingle && { burst: dispatch, single: dispatchSingle, targetMedianMs: 100 },
    memory,
    restore,
    scale,
    killRestore,
    e2e,
    sandboxLaunch: sandbox,
    setupCache,
    shards: figures.shards,
    dispatchSim: figures.dispatchSim,
    totalSeconds: round((performance.now() - started) / 1000, 1),
    loadavgAtEnd: os.loadavg().map((x) => round(x, 2)),
  };
  if (JSON_MODE) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const rows = tableRows(figures);
  const head: [string, string, string, string] = ['figure', 'measured', 'target', 'vs target'];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[head, ...rows].map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log(`oxi bench — ${env.date} — node ${env.node}, ${env.platform}, ${env.cpus}, ${env.memGiB} GiB${QUICK ? ' (quick)' : ''}`);
  console.log(line(head));
  console.log(line(widths.map((n) => '-'.repeat(n))));
  for (const r of rows) console.log(line(r));
  console.log(`load average (1/5/15 min) at start ${env.loadavgAtStart.join(' ')}, at end ${result.loadavgAtEnd.join(' ')}`);
  console.log(`total ${result.totalSeconds} s; targets are guides, nothing is asserted. --json for the raw figures.`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
