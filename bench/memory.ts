/**
 * Figure `memory`: heap and RSS per idle task actor (0 vs 1,000, after gc), in a fresh child process
 * (`--child=memory`): RSS means nothing after the other figures have grown and shrunk the heap.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { TaskBoot } from '../machines/effects.js';
import { listTasks } from '../src/store/tasks.js';
import { allReach, BENCH_ENTRY, boot, commitWhen, dropBed, gc, insertTasks, makeBed, parkedEffects, quiesce, round, type FigureOptions, type Row } from './fixtures.js';

export async function benchMemory(n: number) {
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

export async function memoryFigure(_opts: FigureOptions): Promise<Awaited<ReturnType<typeof benchMemory>>> {
  const out = execFileSync(process.execPath, ['--expose-gc', BENCH_ENTRY, '--child=memory', '--tasks=1000'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out);
}

export function memoryRows(memory: Awaited<ReturnType<typeof memoryFigure>>): Row[] {
  return [
    [`heap per idle task actor (0 vs ${memory.tasks}, after gc)`, `${(memory.heapBytesPerActor / 1024).toFixed(1)} KiB`, '', ''],
    ['   RSS per idle task actor (high-water, fresh process)', `${(memory.rssBytesPerActor / 1024).toFixed(1)} KiB`, '', `heapTotal +${memory.heapTotalDeltaMiB} MiB`],
    [`   spawn ${memory.tasks} via tasks.spawn: returned / committed`, `${memory.spawnSyncMs} / ${memory.spawnDurableMs} ms`, '', ''],
  ];
}
