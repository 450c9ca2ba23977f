/**
 * Scale of the live set: spawn and stop time and kill → every task held and durable at 100, 400 and
 * 1,000 live tasks, the engine's task shards side by side with one flat supervisor (shardSize Infinity:
 * the O(N²) baseline), and P4: 1,000 live tasks over 10,000 items in RSS, and their restore.
 * `node --expose-gc dist/bench/shards.js [--quick] [--json]` runs it alone; bench/run.ts wires it in.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { TaskBoot } from '../machines/effects.js';
import { listTasks } from '../src/store/tasks.js';
import { allReach, boot, commitWhen, dropBed, gc, insertTasks, makeBed, median, parkedEffects, quiesce, round, type FigureOptions as BenchOptions } from './fixtures.js';

type Layout = 'sharded' | 'flat';
const shardSizeOf = (layout: Layout) => (layout === 'flat' ? Infinity : undefined);

/** N tasks spawned one `tasks.spawn` each (the live set filling up), until all are durable in planning; then stop. */
async function spawnStop(n: number, layout: Layout) {
  const bed = makeBed(`spawn${n}`);
  try {
    const ids = insertTasks(bed.db, n, 'queued');
    const handle = boot(bed, parkedEffects(), shardSizeOf(layout));
    await quiesce(handle);
    const boots: TaskBoot[] = listTasks(bed.db).map((r) => ({ id: r.id, title: r.title, description: r.description, tier: r.tier, attempt: r.attempt }));
    const durable = commitWhen(handle, allReach(ids, 'planning'));
    const t0 = performance.now();
    for (const b of boots) handle.send('engine', { type: 'tasks.spawn', tasks: [b] });
    const spawnSyncMs = performance.now() - t0;
    const spawnMs = (await durable).at - t0;
    if (handle.liveTasks().length !== n) throw new Error(`expected ${n} live tasks, got ${handle.liveTasks().length}`);
    await quiesce(handle);
    const s = performance.now();
    await handle.stop();
    return { spawnMs, spawnSyncMs, stopMs: performance.now() - s };
  } finally {
    dropBed(bed);
  }
}

/** `engine.kill` sent → every task's `held` committed (one transaction for all is the design); unkill between runs. */
async function killHeld(n: number, layout: Layout, runs: number) {
  const bed = makeBed(`kill${n}`);
  try {
    const ids = insertTasks(bed.db, n, 'planning');
    const handle = boot(bed, parkedEffects(), shardSizeOf(layout));
    if (handle.liveTasks().length !== n) throw new Error(`expected ${n} live tasks, got ${handle.liveTasks().length}`);
    await quiesce(handle);
    const total: number[] = [];
    const cpu: number[] = [];
    const commits: number[] = [];
    for (let r = 0; r < runs; r++) {
      const held = commitWhen(handle, allReach(ids, 'held'));
      const c0 = process.cpuUsage();
      const start = performance.now();
      handle.send('engineState', { type: 'engine.kill', reason: 'bench', by: 'bench' });
      const done = await held;
      const c = process.cpuUsage(c0);
      // CPU time shows what the engine spends when the wall clock also counts other processes (a loaded machine).
      cpu.push((c.user + c.system) / 1000);
      total.push(done.at - start);
      commits.push(done.commits);
      await quiesce(handle, 50);
      const back = commitWhen(handle, allReach(ids, 'planning'));
      handle.send('engineState', { type: 'engine.unkill', by: 'bench' });
      await back;
      await quiesce(handle, 50);
    }
    await handle.stop();
    return { medianMs: median(total), cpuMedianMs: median(cpu), maxMs: Math.max(...total), commitsUntilAllHeld: Math.max(...commits) };
  } finally {
    dropBed(bed);
  }
}

async function spawnStopFigures(o: BenchOptions, sizes: number[], runs: number) {
  const rows = [];
  for (const n of sizes) {
    const med = async (layout: Layout) => {
      const xs = [];
      for (let r = 0; r < runs; r++) xs.push(await spawnStop(n, layout));
      return { spawnMs: round(median(xs.map((x) => x.spawnMs)), 1), spawnSyncMs: round(median(xs.map((x) => x.spawnSyncMs)), 1), stopMs: round(median(xs.map((x) => x.stopMs)), 1) };
    };
    const sharded = await med('sharded');
    const flat = await med('flat');
    const row = { tasks: n, sharded, flat, spawnRatio: round(sharded.spawnMs / flat.spawnMs, 2), stopRatio: round(sharded.stopMs / flat.stopMs, 2) };
    o.progress(`shards: spawn ${n}: ${sharded.spawnMs} ms sharded vs ${flat.spawnMs} ms flat (×${row.spawnRatio}); stop ${sharded.stopMs} ms vs ${flat.stopMs} ms (×${row.stopRatio})`);
    rows.push(row);
  }
  return rows;
}

async function killFigures(o: BenchOptions, sizes: number[], runs: number) {
  const rows = [];
  for (const n of sizes) {
    const sharded = await killHeld(n, 'sharded', runs);
    const flat = await killHeld(n, 'flat', Math.min(runs, 3));
    const row = {
      tasks: n,
      runs,
      shardedMedianMs: round(sharded.medianMs, 1),
      shardedMaxMs: round(sharded.maxMs, 1),
      shardedCpuMedianMs: round(sharded.cpuMedianMs, 1),
      flatCpuMedianMs: round(flat.cpuMedianMs, 1),
      commitsUntilAllHeld: sharded.commitsUntilAllHeld,
      flatMedianMs: round(flat.medianMs, 1),
      ratio: round(sharded.medianMs / flat.medianMs, 2),
      targetMs: n === 1000 ? 50 : undefined,
    };
    o.progress(`shards: kill → ${n} held and durable: ${row.shardedMedianMs} ms median sharded (${row.shardedCpuMedianMs} ms CPU, ${row.commitsUntilAllHeld} commit) vs ${row.flatMedianMs} ms flat${n === 1000 ? ' (P1 target ≤ 50 ms)' : ''}`);
    rows.push(row);
  }
  return rows;
}

/** P4, in this process: 1,000 live tasks (planning) among 10,000 items; RSS once durable; then stop and restore. */
export async function p4InProcess(live: number, items: number) {
  const bed = makeBed('p4', { maxLiveTasks: live });
  try {
    const ids = insertTasks(bed.db, live, 'planning');
    insertTasks(bed.db, items - live, 'queued', live);
    const rss0 = process.memoryUsage().rss;
    let handle = boot(bed, parkedEffects());
    await commitWhen(handle, allReach(ids, 'planning'));
    await quiesce(handle);
    gc();
    const rss = process.memoryUsage().rss;
    const restores: number[] = [];
    for (let r = 0; r < 3; r++) {
      await handle.stop();
      gc();
      const s = performance.now();
      handle = boot(bed, parkedEffects());
      if (handle.liveTasks().length !== live) throw new Error(`restore: ${handle.liveTasks().length} of ${live} live`);
      await commitWhen(handle, () => true); // the restored actors' first transaction
      restores.push(performance.now() - s);
      await quiesce(handle, 100);
    }
    const rssAfter = process.memoryUsage().rss;
    await handle.stop();
    return { live, items, rssMiB: round(rss / 2 ** 20, 1), rssBeforeEngineMiB: round(rss0 / 2 ** 20, 1), rssAfterRestoresMiB: round(rssAfter / 2 ** 20, 1), restoreMedianMs: round(median(restores), 1), targetRssMiB: 300, targetRestoreMs: 2000 };
  } finally {
    dropBed(bed);
  }
}

/** RSS means something only in a fresh process: P4 runs in a child that prints its JSON. */
function p4InChild(): Awaited<ReturnType<typeof p4InProcess>> {
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child=p4'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out);
}

export async function benchShards(o: BenchOptions) {
  const sizes = [100, 400, 1000];
  o.progress(`shards: spawn/stop and kill at ${sizes.join(', ')} live tasks, sharded vs flat (${o.quick ? 'quick: 1 spawn run, 3 kill runs' : '3 spawn runs, 7 kill runs'})`);
  const spawnStop = await spawnStopFigures(o, sizes, o.quick ? 1 : 3);
  const kill = await killFigures(o, sizes, o.quick ? 3 : 7);
  const p4 = p4InChild();
  o.progress(`shards: P4 ${p4.live} live tasks + ${p4.items} items: ${p4.rssMiB} MiB RSS (≤ 300), restore ${p4.restoreMedianMs} ms (≤ 2000)`);
  return { spawnStop, kill, p4 };
}

const self = fileURLToPath(import.meta.url) === process.argv[1];
if (self && process.argv.includes('--child=p4')) {
  process.stdout.write(`${JSON.stringify(await p4InProcess(1000, 10_000))}\n`);
} else if (self) {
  const figures = await benchShards({ quick: process.argv.includes('--quick'), progress: (l) => process.stderr.write(`bench: ${l}\n`) });
  process.stdout.write(`${JSON.stringify(figures, null, process.argv.includes('--json') ? 0 : 2)}\n`);
}

type Rows = Array<[string, string, string, string]>;

/** `bench/run.ts`'s table: spawn/stop and kill, sharded beside flat, then P4. */
export function shardsRows(f: Awaited<ReturnType<typeof benchShards>>): Rows {
  const rows: Rows = [];
  for (const r of f.spawnStop) {
    rows.push([`spawn ${r.tasks} live tasks: sharded / flat`, `${r.sharded.spawnMs} / ${r.flat.spawnMs} ms`, 'O(N)', `×${r.spawnRatio}`]);
    rows.push([`   stop ${r.tasks}: sharded / flat`, `${r.sharded.stopMs} / ${r.flat.stopMs} ms`, 'O(N)', `×${r.stopRatio}`]);
  }
  for (const k of f.kill) {
    rows.push([`kill → ${k.tasks} held and durable (median, ${k.commitsUntilAllHeld} commit)`, `${k.shardedMedianMs} ms`, k.targetMs ? `≤ ${k.targetMs} ms` : '', `flat ${k.flatMedianMs} ms; CPU ${k.shardedCpuMedianMs} ms`]);
  }
  rows.push([`P4: ${f.p4.live} live + ${f.p4.items} items: RSS`, `${f.p4.rssMiB} MiB`, `≤ ${f.p4.targetRssMiB} MiB`, '']);
  rows.push([`P4: restore ${f.p4.live} live tasks (median)`, `${f.p4.restoreMedianMs} ms`, `≤ ${f.p4.targetRestoreMs} ms`, '']);
  return rows;
}
