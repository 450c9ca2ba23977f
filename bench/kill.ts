/**
 * Figure `kill`: engine.kill → every live task `held` and committed, at 100 and 1,000 live tasks; the resume
 * (engine.unkill) timed as well. One transaction, one fsync, is the design goal.
 */
import { performance } from 'node:perf_hooks';
import { allReach, boot, commitWhen, dropBed, insertTasks, makeBed, median, parkedEffects, quiesce, round, vs, type FigureOptions, type Row } from './fixtures.js';

async function benchKill(n: number, runs: number, progress: (line: string) => void) {
  progress(`kill propagation to ${n} live task actors (${runs} runs)`);
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

export async function killFigure(opts: FigureOptions) {
  const n100 = await benchKill(100, opts.quick ? 3 : 7, opts.progress);
  const n1000 = await benchKill(1000, opts.quick ? 3 : 5, opts.progress);
  return { n100, n1000, targetMsAt1000: 50 };
}

export function killRows(f: Awaited<ReturnType<typeof killFigure>>): Row[] {
  const rows: Row[] = [];
  for (const k of [f.n100, f.n1000]) {
    const at1000 = k.tasks === 1000;
    rows.push([`kill → all ${k.tasks} tasks held, committed (median of ${k.runs})`, `${k.medianMs} ms`, at1000 ? '≤ 50 ms' : '', at1000 ? vs(k.medianMs, 50) : '']);
    rows.push([`   first (cold) / min / max, ${k.tasks}`, `${k.firstMs} / ${k.minMs} / ${k.maxMs} ms`, '', '']);
    rows.push([`   in-memory (send() returned) + commit, ${k.tasks}`, `${k.sendReturnedMedianMs} + ${k.persistAfterSendMedianMs} ms`, '', `${k.commitsUntilAllHeld} txn`]);
    rows.push([`   resume (engine.unkill → all back), ${k.tasks}`, `${k.resumeMedianMs} ms`, '', '']);
  }
  return rows;
}
