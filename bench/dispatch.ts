/**
 * Figure `dispatch`: a task `waiting` with a free slot → its worker process spawned, on a sample project with
 * the real engine and real effects (local host, local forge, scripted agent): single tasks, then a burst of 10.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fromPromise } from 'xstate';
import { LocalHost } from '../actors/hosts/local-host.js';
import { systemClock } from '../src/clock.js';
import { loadAdapter } from '../src/config/load.js';
import { createSampleProject } from '../src/demo/sample-project.js';
import type { HostTransport } from '../src/ports.js';
import { startEngine, type EngineHandle } from '../src/runtime/engine.js';
import { openDb, type Db } from '../src/store/db.js';
import { countTasksWithWorker } from '../src/store/probes.js';
import { median, pct, round, silentNotifier, sleep, vs, type FigureOptions, type Row } from './fixtures.js';

interface DispatchSample {
  waiting?: number;
  free?: boolean;
  provisioning?: number;
  working?: number;
  pid?: number;
}

/** `rounds` fresh sample projects of `tasks` items each; every task's timestamps are pooled. */
async function benchDispatch(tasks: number, label: string, rounds: number, progress: (line: string) => void) {
  progress(`dispatch latency on a sample project (${label}: ${rounds} × ${tasks} task(s), real effects, scripted agent)`);
  const samples: DispatchSample[] = [];
  let recorded = 0;
  for (let r = 0; r < rounds; r++) {
    const one = await dispatchRound(tasks, progress);
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

async function dispatchRound(tasks: number, progress: (line: string) => void): Promise<{ samples: DispatchSample[]; recorded: number }> {
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

export async function dispatchFigure(opts: FigureOptions) {
  const single = await benchDispatch(1, 'single', opts.quick ? 1 : 3, opts.progress);
  const burst = await benchDispatch(10, 'burst', 1, opts.progress);
  return { single, burst, targetMedianMs: 100 };
}

export function dispatchRows(f: Awaited<ReturnType<typeof dispatchFigure>>): Row[] {
  const rows: Row[] = [];
  for (const d of [f.single, f.burst]) {
    rows.push([`dispatch waiting → worker pid, ${d.label} ${d.rounds}×${d.tasks} (median of ${d.counted})`, `${d.medianMs} ms`, '≤ 100 ms', vs(d.medianMs, 100)]);
    const b = d.breakdownMedianMs;
    rows.push(['   claim / provision (git worktree) / spawn', `${b.waitingToProvisioning} / ${b.provisioningToWorking} / ${b.workingToPid} ms`, '', d.counted > 1 ? `min ${d.minMs}, max ${d.maxMs}` : '']);
  }
  return rows;
}
