import { readFileSync } from 'node:fs';
import type { DeadmanOutput, EffectInput, LedgerNote, ProbeOutput, ReapOutput, SeedOutput, TaskBoot } from '../../machines/effects.js';
import { HostUnreachableError, RoadmapError } from '../../src/errors.js';
import { parseRoadmap } from '../../src/roadmap/parse.js';
import { loadSnapshot } from '../../src/store/snapshots.js';
import { countInStatuses, countLive, getTask, ingestItems, listTasks, markMissing, nextQueued } from '../../src/store/tasks.js';
import { newTasksHeld } from '../../src/dispatch/budget.js';
import { clockSleep, hostOf, type EffectDeps } from './deps.js';
import { EFFECT_TASK_STATUSES, LIVE_TASK_STATUSES } from '../../machines/status.js';
import { compactFinished, sweepFinished } from './janitor.js';
import { sweepLogs } from './log-janitor.js';
import { janitorNotes } from './janitor-notes.js';
import { appendEvent } from '../../src/store/ledger.js';

const sweepNotes = janitorNotes();

/** Waits until an absolute deadline on the injected clock (restored waits keep their deadline). */
export async function sleepUntil(deps: EffectDeps, input: EffectInput<'sleep'>, signal: AbortSignal): Promise<{ at: number }> {
  const ms = input.until - deps.clock.now();
  if (ms > 0) await clockSleep(deps.clock, ms, signal);
  return { at: deps.clock.now() };
}

/** RAM one agent session needs; the envelope is min(ram, cpus − load5, plan tier, host ceiling). */
const MB_PER_WORKER = 1536;

export async function probeHost(deps: EffectDeps, input: EffectInput<'probeHost'>): Promise<ProbeOutput> {
  const host = hostOf(deps, input.host);
  const cfg = deps.adapter.hosts.find((h) => h.name === input.host);
  let p: Awaited<ReturnType<typeof host.probe>>;
  try {
    p = await host.probe();
  } catch (error) {
    // Unreachable (or refusing its key): no new dispatch there until a probe succeeds again; its running tasks are the reaper's to judge.
    deps.pool.setCapacity(input.host, 0);
    throw error;
  }
  const ram = Math.floor(p.freeMemMb / MB_PER_WORKER);
  const cpu = Math.max(1, Math.floor(p.cpus - p.load5));
  const capacity = Math.max(0, Math.min(ram, cpu, deps.adapter.planTier.maxWorkers, cfg?.maxWorkers ?? 1));
  deps.pool.setCapacity(input.host, capacity);
  return { capacity, inUse: deps.pool.inUse(input.host) };
}

export { seedRoadmap } from './seed-roadmap.js';

/** Boot list: every non-terminal, non-queued task, restored from its own snapshot. */
export function restoreList(deps: Pick<EffectDeps, 'db'>): TaskBoot[] {
  return listTasks(deps.db)
    .filter((t) => LIVE_TASK_STATUSES.includes(t.status))
    .map((t) => ({ id: t.id, title: t.title, description: t.description, tier: t.tier, attempt: t.attempt, restore: loadSnapshot(deps.db, `task:${t.id}`) }));
}

/**
 * Stalled workers (no progress for stallMs, measured from last_progress_at only) whose process
 * is dead on its host. A live worker is never reaped, nor a task past shipping (it owns a PR).
 * Two strikes: a worker must be seen dead on two scans in a row, so one that just finished —
 * its result waiting for the watcher to read it — is never taken for a lost one. A worker that a
 * runAgent in this process attends (deps.watchers) is that watcher's to judge, never the reaper's.
 */
export function makeReapScan() {
  // task → the worker seen dead on the previous scan, and the task's last progress then: a task that moved since
  // (a new attempt entering `working` stamps it) is a new suspect, never reaped on an earlier attempt's sighting.
  const suspects = new Map<string, string>();
  const unreachable = new Set<string>(); // tasks whose host was out of reach (logged once per outage)
  // The janitor's run under way (at most one: a slow one is never overlapped by the next tick's).
  let janitor: Promise<void> | undefined;
  return async function reapScan(deps: EffectDeps): Promise<ReapOutput> {
    const now = deps.clock.now();
    for (const [task, at] of deps.watchers ?? []) if (now - at > deps.adapter.engine.stallMs) deps.watchers!.delete(task);
    const stalled = listTasks(deps.db, { status: 'working' }).filter((t) => now - t.last_progress_at > deps.adapter.engine.stallMs && t.pr === null);
    const reap: ReapOutput['reap'] = [];
    const ledger: LedgerNote[] = [];
    const seen = new Set<string>();
    const judged = new Map<string, (typeof stalled)[number]>();
    for (const t of stalled) {
      // A worker attended in this process (or until stallMs ago) is runAgent's to judge: two judges of one exit start two workers.
      const watchedAt = deps.watchers?.get(t.id);
      if (watchedAt !== undefined && now - watchedAt <= deps.adapter.engine.stallMs) continue;
      let alive: boolean;
      try {
        alive = t.worker_pid !== null && t.host !== null && (await hostOf(deps, t.host).isAlive(t.worker_pid));
      } catch (error) {
        // A host out of reach may still run the worker: never reap what cannot be seen; look again when it is back.
        if (!(error instanceof HostUnreachableError)) throw error;
        if (!unreachable.has(t.id)) ledger.push({ kind: 'reaper.host_unreachable', payload: { task: t.id, pid: t.worker_pid, host: t.host } });
        unreachable.add(t.id);
        suspects.delete(t.id);
        continue;
      }
      unreachable.delete(t.id);
      if (alive) continue;
      seen.add(t.id);
      const sighting = `${t.host ?? ''}:${t.worker_pid ?? ''}@${t.last_progress_at}`;
      if (suspects.get(t.id) !== sighting) {
        suspects.set(t.id, sighting);
        continue;
      }
      reap.push({ taskId: t.id, reason: `no progress for ${Math.round((now - t.last_progress_at) / 1000)} s and worker ${t.worker_pid ?? '(none)'} is not running` });
      judged.set(t.id, t);
    }
    for (const id of [...suspects.keys()]) if (!seen.has(id) || reap.some((r) => r.taskId === id)) suspects.delete(id);
    // The janitor rides the reaper's tick, detached from its verdicts: a host that hangs never delays a reap.
    if (!janitor) {
      janitor = runJanitor(deps, now).finally(() => (janitor = undefined));
      deps.track?.(janitor);
    }
    // The verdict is about the worker seen dead, and the scan took time (hosts answering, the janitor): a task that
    // recorded another worker (or moved on) since is not reaped, or its new, live worker would be left behind.
    const still = reap.filter((r) => sameWorkerStalled(deps, judged.get(r.taskId)!));
    for (const r of still) {
      const t = judged.get(r.taskId)!;
      ledger.push({ kind: 'reaper.reaped', payload: { task: t.id, pid: t.worker_pid, host: t.host } });
    }
    return { reap: still, ledger };
  };
}

/**
 * The janitor's sweeps (workspaces, logs, retention), each on its own: one failing never stops the others (said once
 * while it keeps failing). Its ledger rows are written as they come, under the reaper's name: it runs past the tick.
 * Never rejects (tracked by the engine, whose stop waits for it).
 */
async function runJanitor(deps: EffectDeps, now: number): Promise<void> {
  const sweepDeps = { db: deps.db, adapter: deps.adapter, now, hosts: deps.hosts };
  for (const [name, sweep] of [['workspaces', sweepFinished], ['logs', sweepLogs], ['retention', compactFinished]] as const) {
    let notes: LedgerNote[];
    try {
      notes = await sweep(sweepDeps);
      sweepNotes.forget(deps.db, `sweep:${name}`);
    } catch (error) {
      notes = sweepNotes.once(deps.db, `sweep:${name}`) ? [{ kind: 'janitor.failed', payload: { sweep: name, error: (error as Error)?.message ?? String(error) } }] : [];
    }
    try {
      for (const n of notes) appendEvent(deps.db, { at: deps.clock.now(), actor: 'reaper', kind: n.kind, payload: n.payload });
    } catch {
      // The database closed under a stopping engine: nothing more to record.
      return;
    }
  }
}

/** The task is still working on the same recorded worker, still without progress and without a PR. */
function sameWorkerStalled(deps: EffectDeps, seen: { id: string; worker_pid: number | null; host: string | null; last_progress_at: number }): boolean {
  const now = getTask(deps.db, seen.id);
  return !!now && now.status === 'working' && now.pr === null && now.worker_pid === seen.worker_pid && now.host === seen.host && now.last_progress_at === seen.last_progress_at;
}

export { makePrScan } from './pr-scan.js';

export async function deadmanCheck(deps: EffectDeps): Promise<DeadmanOutput> {
  const row = countInStatuses(deps.db, EFFECT_TASK_STATUSES);
  const quietMs = row.last === null ? 0 : deps.clock.now() - row.last;
  return { silent: row.n > 0 && quietMs > deps.adapter.engine.deadmanMs, inFlight: row.n, quietMs };
}
