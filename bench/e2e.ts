/**
 * Figure `e2e`: the engine's overhead at equal width. `oxi demo` on a sample project with W worker slots
 * against the raw work of the same tasks run W-wide by a small pool (W lanes, each spawning the same child
 * processes the pipeline cannot avoid: worktree, scripted worker, checks, squash merge, cleanup), at W = 1 and
 * W = N. The engine's per-phase medians, read from its own ledger, show where its time goes.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { scriptedWorkerArgv } from '../actors/agents/scripted/paths.js';
import { createSampleProject } from '../src/demo/sample-project.js';
import { openDb } from '../src/store/db.js';
import { listEvents } from '../src/store/ledger.js';
import { median, round, vs, type FigureOptions, type Row } from './fixtures.js';

const OXI = join(fileURLToPath(import.meta.url), '..', '..', '..', 'bin', 'oxi.js');
const run = promisify(execFile);
const ID = ['-c', 'user.name=raw', '-c', 'user.email=raw@localhost'];
const git = (cwd: string, args: string[]) => run('git', [...ID, ...args], { cwd });

/** One task's raw work in a lane; the merge into main is serialized, as on any forge. */
async function rawTask(project: string, id: string, checks: string[], mainLock: { chain: Promise<unknown> }): Promise<void> {
  const wt = join(project, '.raw-worktrees', id);
  const branch = `oxi/${id.toLowerCase()}`;
  await git(project, ['worktree', 'add', '-q', '-b', branch, wt, 'main']);
  const [node, ...args] = scriptedWorkerArgv({ task: id, script: join(project, '.oxi-script.json'), cwd: wt, attempt: 1 });
  await run(node, args, { cwd: wt });
  await run(checks[0], checks.slice(1), { cwd: wt });
  const merge = mainLock.chain.then(async () => {
    await git(project, ['merge', '--squash', '-q', branch]);
    await git(project, ['commit', '-q', '-m', `${id}: raw`]);
  });
  mainLock.chain = merge.catch(() => undefined);
  await merge;
  await git(project, ['worktree', 'remove', '--force', wt]);
  await git(project, ['branch', '-D', '-q', branch]);
}

/** The raw work of every task, `width` lanes at a time, each lane taking the next task when it is done. */
async function rawWork(project: string, ids: string[], checks: string[], width: number): Promise<number> {
  const queue = [...ids];
  const mainLock = { chain: Promise.resolve() as Promise<unknown> };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: width }, async () => {
    for (let id = queue.shift(); id; id = queue.shift()) await rawTask(project, id, checks, mainLock);
  }));
  return performance.now() - t0;
}

/** A sample project with `width` worker slots, the adapter change committed (the engine refuses an uncommitted one). */
function sampleProject(dir: string, tasks: number, width: number) {
  const { configPath, ids } = createSampleProject({ dir, tasks });
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.hosts[0].maxWorkers = width;
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
  execFileSync('git', [...ID, 'commit', '-q', '--allow-empty', '-am', `bench: ${width} worker(s)`], { cwd: dir, stdio: 'pipe' });
  return { ids, checks: config.checks.command as string[] };
}

/** Median time per task in each status, from the engine's ledger (`task.<status>` rows). */
function phaseMedians(dbPath: string): Record<string, number> {
  const db = openDb(dbPath);
  try {
    const byTask = new Map<string, Array<{ at: number; kind: string }>>();
    for (const r of listEvents(db, { kindPrefix: 'task.' })) if (r.task) (byTask.get(r.task) ?? byTask.set(r.task, []).get(r.task)!).push({ at: r.at, kind: r.kind.slice(5) });
    const spans = new Map<string, number[]>();
    for (const rows of byTask.values()) {
      rows.sort((a, b) => a.at - b.at);
      for (let i = 0; i + 1 < rows.length; i++) (spans.get(rows[i].kind) ?? spans.set(rows[i].kind, []).get(rows[i].kind)!).push(rows[i + 1].at - rows[i].at);
    }
    return Object.fromEntries([...spans].map(([k, v]) => [k, round(median(v), 0)]));
  } finally {
    db.close();
  }
}

/** `oxi demo` in a subprocess (no dashboard: nobody watches), timed from spawn to exit. */
async function engineWork(dir: string): Promise<{ ms: number; merged: number; abandoned: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [OXI, 'demo', '--dir', dir, '--no-dashboard', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`oxi demo exited ${code}: ${err.slice(-500)}`);
  const summary = JSON.parse(out) as { merged: number; abandoned: number };
  return { ms, merged: summary.merged, abandoned: summary.abandoned };
}

async function atWidth(width: number, tasks: number, progress: (line: string) => void) {
  const dir = mkdtempSync(join(os.tmpdir(), `oxi-bench-e2e${width}-`));
  try {
    progress(`e2e: the raw work of ${tasks} tasks, ${width} wide`);
    const raw = sampleProject(join(dir, 'raw'), tasks, width);
    const rawMs = await rawWork(join(dir, 'raw'), raw.ids, raw.checks, width);
    progress(`e2e: oxi demo, ${tasks} tasks on ${width} worker slot(s)`);
    sampleProject(join(dir, 'engine'), tasks, width);
    const engine = await engineWork(join(dir, 'engine'));
    return {
      workers: width,
      tasks,
      merged: engine.merged,
      abandoned: engine.abandoned,
      engineMs: round(engine.ms, 0),
      rawMs: round(rawMs, 0),
      ratio: round(engine.ms / rawMs, 2),
      perTaskEngineMs: round(engine.ms / tasks, 0),
      perTaskRawMs: round(rawMs / tasks, 0),
      engineMedianMsPerStatus: phaseMedians(join(dir, 'engine', '.oxi', 'oxi.db')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

/** N is the demo's own worker count (2). Quick: 2 and 4 tasks; full: 12 and 24. */
export async function e2eFigure(opts: FigureOptions) {
  const n = 2;
  const at1 = await atWidth(1, opts.quick ? 2 : 12, opts.progress);
  const atN = await atWidth(n, opts.quick ? 4 : 24, opts.progress);
  return { at1, atN, targetRatio: 1.1 };
}

export function e2eRows(f: Awaited<ReturnType<typeof e2eFigure>>): Row[] {
  const rows: Row[] = [];
  for (const e of [f.at1, f.atN]) {
    rows.push([`end to end, ${e.tasks} tasks, ${e.workers} wide: oxi demo / raw work`, `${(e.engineMs / 1000).toFixed(1)} / ${(e.rawMs / 1000).toFixed(1)} s`, '', `${e.merged} merged`]);
    rows.push([`   ratio engine / raw work at ${e.workers} wide`, `${e.ratio}×`, '≤ 1.10×', vs(e.ratio, 1.1)]);
    const p = e.engineMedianMsPerStatus;
    rows.push(['   engine median per status: plan/wait/prov/work/ship/pr/checks/review/merge', ['planning', 'waiting', 'provisioning', 'working', 'shipping', 'pr_open', 'checks', 'reviewing', 'merging'].map((k) => p[k] ?? '-').join('/') + ' ms', '', '']);
  }
  return rows;
}
