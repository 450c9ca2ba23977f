/**
 * Figure `restore`: a new startEngine on the DB of 1,000 mid-flight tasks (planned, parked in the real
 * dispatch pool with no capacity), timed until every task is restored and the boot's first commit is done.
 */
import { performance } from 'node:perf_hooks';
import { fromPromise } from 'xstate';
import { restoreList } from '../actors/effects/background.js';
import type { PlanOutput, TaskRef } from '../machines/effects.js';
import { listTasks } from '../src/store/tasks.js';
import { allReach, boot, commitWhen, dropBed, gc, insertTasks, makeBed, median, parkedEffects, PLAN, quiesce, round, type Effects, type FigureOptions, type Row } from './fixtures.js';

async function benchRestore(n: number, runs: number) {
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

export const restoreFigure = (opts: FigureOptions) => benchRestore(1000, opts.quick ? 1 : 3);

export function restoreRows(restore: Awaited<ReturnType<typeof restoreFigure>>): Row[] {
  // startEngine makes each of these reads once; the rest is restoring, starting and persisting the actors.
  const reads = restore.parts.restoreListMs + restore.parts.listTasksCallMs;
  return [
    [`restore ${restore.tasks} mid-flight tasks → running + committed`, `${restore.medianMs} ms`, '', ''],
    ['   startEngine() returned / engine stop', `${restore.startEngineReturnedMedianMs} / ${restore.stopMedianMs} ms`, '', ''],
    ['   restoreList() / one listTasks() call', `${restore.parts.restoreListMs} / ${restore.parts.listTasksCallMs} ms`, '', `rest ≈ ${Math.max(0, restore.medianMs - reads).toFixed(0)} ms`],
  ];
}
