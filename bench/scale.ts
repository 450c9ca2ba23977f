/**
 * Scale figures of `npm run bench`: `scale` (10,000 roadmap items ingested with 1,000 live task actors,
 * RSS) and `kill-restore` (restore after a SIGKILL).
 * Each runs in fresh child processes so memory and restore figures are not skewed by the others.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fromPromise } from 'xstate';
import { seedRoadmap } from '../actors/effects/background.js';
import type { EffectDeps } from '../actors/effects/deps.js';
import { EFFECT_NAMES, effectPlaceholders, type PlanOutput } from '../machines/effects.js';
import { systemClock } from '../src/clock.js';
import type { Adapter } from '../src/config/schema.js';
import { validateConfig } from '../src/config/validate.js';
import type { Forge, HostTransport } from '../src/ports.js';
import { startEngine, type EngineHandle } from '../src/runtime/engine.js';
import { openDb, type Db } from '../src/store/db.js';
import { countTasks } from '../src/store/tasks.js';
import { BENCH_ENTRY, vs, type FigureOptions, type Row } from './fixtures.js';

type Effects = typeof effectPlaceholders;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (n: number, d = 1) => Number(n.toFixed(d));
const never = <T>() => new Promise<T>(() => {});
const PLAN = { files_touched: ['src/a.js'], tests: [], dependencies: [], risk: 'low' };

function bed(label: string, items: number, maxLive: number): { dir: string; adapter: Adapter; db: Db } {
  const dir = mkdtempSync(join(os.tmpdir(), `oxi-scale-${label}-`));
  const lines = ['# Roadmap', '', '## Tier 0', ''];
  for (let i = 0; i < items; i++) lines.push(`**T0-${10_000 + i} · Add fn${i}**`, `_Export fn${i} from src/fn${i}.js with a test._`, '');
  writeFileSync(join(dir, 'ROADMAP.md'), lines.join('\n'));
  const adapter = validateConfig(
    {
      name: 'scale',
      hosts: [{ name: 'local', kind: 'local', maxWorkers: 8 }],
      checks: { command: ['true'] },
      agents: { scripted: { script: 'script.json' } },
      engine: { maxLiveTasks: maxLive, seedIntervalMs: 3_600_000 },
    },
    { configPath: join(dir, 'oxi.config.json') },
  );
  mkdirSync(adapter.paths.stateDir, { recursive: true });
  return { dir, adapter, db: openDb(adapter.paths.db) };
}

/** Every effect parked except the real seeder (ingest + spawn) and, if given, a plan stub. */
function boot(b: ReturnType<typeof bed>, planned: boolean): EngineHandle {
  const parked = fromPromise<never, unknown>(() => never());
  const effects = Object.fromEntries(EFFECT_NAMES.filter((n) => n !== 'seedRoadmap' && n !== 'claimSlot' && n !== 'sleep').map((n) => [n, parked])) as Partial<Effects>;
  if (planned) effects.plan = fromPromise<PlanOutput, unknown>(async () => ({ ok: true, plan: PLAN, costUsd: 0 })) as never;
  return startEngine({
    adapter: b.adapter,
    db: b.db,
    clock: systemClock,
    effects,
    forge: { listOpenPrs: async () => [] } as unknown as Forge,
    hosts: new Map<string, HostTransport>(),
    agents: {} as never,
    notifier: { notify: async () => {} },
    onFatal: (e) => {
      throw e;
    },
  });
}

async function until(what: string, fn: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// ---------------------------------------------------------------- 6. 10,000 ingested, 1,000 live: RSS

export async function childIngest(items: number, live: number) {
  const b = bed('ingest', items, live);
  try {
    const t0 = performance.now();
    await seedRoadmap({ adapter: b.adapter, db: b.db, clock: systemClock } as EffectDeps);
    const ingestMs = performance.now() - t0;
    const handle = boot(b, false);
    const t1 = performance.now();
    await until(`${live} live tasks`, () => handle.liveTasks().length >= live);
    const spawnMs = performance.now() - t1;
    await sleep(300);
    (globalThis as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    const rows = countTasks(b.db);
    const liveNow = handle.liveTasks().length;
    await handle.stop();
    return { items, rows, live: liveNow, ingestMs: round(ingestMs), seedAndSpawnMs: round(spawnMs), rssMiB: round(mem.rss / 2 ** 20), heapUsedMiB: round(mem.heapUsed / 2 ** 20), targetRssMiB: 300 };
  } finally {
    b.db.close();
    rmSync(b.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- 7. restore after SIGKILL

/** Child: bring `n` tasks mid-flight (planned, waiting for a slot), print "ready", wait to be killed. */
export async function childPrepare(dir: string, n: number) {
  const b = { dir, ...reopen(dir, n) };
  const handle = boot(b, true);
  await until('all waiting', () => countTasks(b.db, { status: 'waiting' }) >= n);
  await sleep(200);
  process.stdout.write(`ready ${handle.liveTasks().length}\n`);
  await never();
}

/** Child: restore from the killed engine's database; report the time to every task live again. */
export async function childRestore(dir: string, n: number) {
  const b = { dir, ...reopen(dir, n) };
  const t0 = performance.now();
  const handle = boot(b, true);
  const startReturnedMs = performance.now() - t0;
  await until('all restored', () => handle.liveTasks().filter((t) => t.status === 'waiting').length >= n);
  const restoredMs = performance.now() - t0;
  const sinceProcessStartMs = performance.now(); // performance.now() counts from process start
  await handle.stop();
  b.db.close();
  return { tasks: n, startEngineReturnedMs: round(startReturnedMs), restoredMs: round(restoredMs), sinceProcessStartMs: round(sinceProcessStartMs) };
}

function reopen(dir: string, n: number) {
  const adapter = validateConfig(
    { name: 'scale', hosts: [{ name: 'local', kind: 'local', maxWorkers: 8 }], checks: { command: ['true'] }, agents: { scripted: { script: 'script.json' } }, engine: { maxLiveTasks: n, seedIntervalMs: 3_600_000 } },
    { configPath: join(dir, 'oxi.config.json') },
  );
  return { adapter, db: openDb(adapter.paths.db) };
}

export async function benchRestoreAfterKill(self: string, n: number) {
  const b = bed('restore', n, n);
  b.db.close();
  try {
    const child = spawn(process.execPath, ['--expose-gc', self, '--child=prepare', `--dir=${b.dir}`, `--tasks=${n}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`prepare child exited ${code} before ready`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const t0 = performance.now();
    const out = execFileSync(process.execPath, ['--expose-gc', self, '--child=restore', `--dir=${b.dir}`, `--tasks=${n}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const wallMs = performance.now() - t0;
    return { ...JSON.parse(out), processWallMs: round(wallMs), targetMs: 2000 };
  } finally {
    rmSync(b.dir, { recursive: true, force: true });
  }
}

/** Entry for the child processes (`--child=ingest|prepare|restore`); true when this process is one. */
export async function runScaleChild(argv: string[]): Promise<boolean> {
  const arg = (k: string) => argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  const child = arg('child');
  if (child === 'ingest') process.stdout.write(JSON.stringify(await childIngest(Number(arg('items') ?? 10_000), Number(arg('live') ?? 1000))) + '\n');
  else if (child === 'prepare') await childPrepare(arg('dir')!, Number(arg('tasks')));
  else if (child === 'restore') process.stdout.write(JSON.stringify(await childRestore(arg('dir')!, Number(arg('tasks')))) + '\n');
  else return false;
  return true;
}

export function ingestInChild(self: string, items: number, live: number) {
  const out = execFileSync(process.execPath, ['--expose-gc', self, '--child=ingest', `--items=${items}`, `--live=${live}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out) as Awaited<ReturnType<typeof childIngest>>;
}

export const scaleFigure = async (_opts: FigureOptions) => ingestInChild(BENCH_ENTRY, 10_000, 1000);

export function scaleRows(scale: Awaited<ReturnType<typeof scaleFigure>>): Row[] {
  return [
    [`${scale.items} roadmap items ingested (real seeder)`, `${scale.ingestMs} ms`, '', `${scale.rows} rows`],
    [`   ${scale.live} live task actors: process RSS`, `${scale.rssMiB} MiB`, '≤ 300 MiB', vs(scale.rssMiB, 300)],
    ['   heap used / seed + spawn time', `${scale.heapUsedMiB} MiB / ${scale.seedAndSpawnMs} ms`, '', ''],
  ];
}

export const killRestoreFigure = (_opts: FigureOptions) => benchRestoreAfterKill(BENCH_ENTRY, 1000);

export function killRestoreRows(k: Awaited<ReturnType<typeof killRestoreFigure>>): Row[] {
  return [
    [`restore ${k.tasks} tasks after SIGKILL (startEngine → all live)`, `${k.restoredMs} ms`, '≤ 2 s', vs(k.restoredMs, 2000)],
    ['   since process start / wall incl. node start + stop', `${k.sinceProcessStartMs} / ${k.processWallMs} ms`, '', ''],
  ];
}
