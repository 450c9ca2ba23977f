/**
 * oxi benchmark: `npm run bench` (= build + `node --expose-gc dist/bench/run.js`).
 * Each figure is its own module (`bench/<figure>.ts`); this runner lists them, states the expected duration,
 * runs the ones asked for (`--only=NAMES`), and prints each figure's rows as soon as it is measured.
 * `--quick` takes fewer samples; `--json` prints one JSON object on stdout at the end (progress stays on
 * stderr). Ratios and medians are printed next to their targets; a timing is never asserted.
 * See docs/bench.md for what each figure means.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { cliStartupFigure, cliStartupRows } from './cli-startup.js';
import { dashboardFigure, dashboardRows } from './dashboard.js';
import { dispatchFigure, dispatchRows } from './dispatch.js';
import { e2eFigure, e2eRows } from './e2e.js';
import { gc, round, type FigureOptions, type Row } from './fixtures.js';
import { killFigure, killRows } from './kill.js';
import { persistFigure, persistRows } from './persist.js';
import { benchShards, shardsRows } from './shards.js';
import { benchDispatchSim, dispatchSimRows } from './dispatch-sim.js';
import { benchMemory, memoryFigure, memoryRows } from './memory.js';
import { restoreFigure, restoreRows } from './restore.js';
import { sandboxFigure, sandboxRows } from './sandbox.js';
import { killRestoreFigure, killRestoreRows, runScaleChild, scaleFigure, scaleRows } from './scale.js';
import { setupFigure, setupRows } from './setup.js';
import { writeFigure, writeRows } from './write.js';

interface Figure {
  /** What `--only=` names, and the key of its object in `--json`. */
  name: string;
  title: string;
  /** Seconds it takes on a 2-core VM, quick and full: the runner prints the sum at start. */
  expectSec: { quick: number; full: number };
  run: (opts: FigureOptions) => Promise<object>;
  rows: (figure: never) => Row[];
  /** Minutes of real runs (whole demos, a simulated fleet): left out of `--quick` unless named with `--only`. */
  slow?: true;
}

/** Every figure, in the order they run. Add one line per new figure. */
const FIGURES: Figure[] = [
  { name: 'write', title: 'persisted transition vs bare INSERT', expectSec: { quick: 5, full: 15 }, run: writeFigure, rows: writeRows },
  { name: 'kill', title: 'kill → 100 and 1,000 live tasks held', expectSec: { quick: 8, full: 15 }, run: killFigure, rows: killRows },
  { name: 'dispatch', title: 'dispatch waiting → worker spawned', expectSec: { quick: 10, full: 20 }, run: dispatchFigure, rows: dispatchRows, slow: true },
  { name: 'memory', title: 'heap and RSS per idle task actor', expectSec: { quick: 10, full: 5 }, run: memoryFigure, rows: memoryRows },
  { name: 'restore', title: 'restore 1,000 mid-flight tasks', expectSec: { quick: 10, full: 20 }, run: restoreFigure, rows: restoreRows },
  { name: 'scale', title: '10,000 items ingested, 1,000 live tasks: RSS', expectSec: { quick: 25, full: 5 }, run: scaleFigure, rows: scaleRows },
  { name: 'kill-restore', title: 'restore 1,000 tasks after SIGKILL', expectSec: { quick: 10, full: 10 }, run: killRestoreFigure, rows: killRestoreRows, slow: true },
  { name: 'e2e', title: 'end to end at 1 and N workers vs the raw work as wide', expectSec: { quick: 60, full: 240 }, run: e2eFigure, rows: e2eRows, slow: true },
  { name: 'sandbox', title: 'sandbox cost per agent launch', expectSec: { quick: 15, full: 35 }, run: sandboxFigure, rows: sandboxRows },
  { name: 'setup', title: 'workspace setup: first vs last npm ci', expectSec: { quick: 20, full: 70 }, run: setupFigure, rows: setupRows },
  { name: 'dashboard', title: 'dashboard first paint and update, 1,000 tasks', expectSec: { quick: 30, full: 45 }, run: dashboardFigure, rows: dashboardRows },
  { name: 'persist', title: 'pages per persisted transition, by storage layout', expectSec: { quick: 10, full: 60 }, run: persistFigure, rows: persistRows },
  { name: 'shards', title: 'spawn, stop and kill at 100, 400 and 1,000 live tasks; P4', expectSec: { quick: 70, full: 180 }, run: benchShards, rows: shardsRows },
  { name: 'cli', title: 'CLI startup: --version, --help, status --json vs bare node', expectSec: { quick: 15, full: 40 }, run: cliStartupFigure, rows: cliStartupRows },
  { name: 'dispatch-fleet', title: 'dispatch p50/p99, 50 simulated hosts and 400 live tasks', expectSec: { quick: 60, full: 120 }, run: benchDispatchSim, rows: dispatchSimRows, slow: true },
];

/** `--only=kill,e2e` (the older numbers 1–10 still work for the first ten); `--quick` alone leaves the slow figures out. */
function selected(argv: string[], quick: boolean): Figure[] {
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (!only) return quick ? FIGURES.filter((f) => !f.slow) : FIGURES;
  const names = only.split(',').map((x) => x.trim()).filter(Boolean).map((x) => (/^\d+$/.test(x) ? FIGURES[Number(x) - 1]?.name ?? x : x));
  const unknown = names.filter((n) => !FIGURES.some((f) => f.name === n));
  if (unknown.length) throw new Error(`--only: no figure named ${unknown.join(', ')}; the figures are ${FIGURES.map((f) => f.name).join(', ')}.`);
  return FIGURES.filter((f) => names.includes(f.name));
}

const WIDTHS = [66, 30, 10];
const line = (r: string[]) => r.map((c, i) => (i < WIDTHS.length ? c.padEnd(WIDTHS[i]) : c)).join('  ').trimEnd();

function environment(quick: boolean, figures: Figure[]) {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: `${cpus.length}x ${cpus[0]?.model ?? '?'}`,
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    gc: gc(),
    quick,
    only: figures.map((f) => f.name).join(','),
    loadavgAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

/** Runs each figure in turn; a figure that fails is reported (and the run exits 1) without losing the others. */
async function main(argv: string[]): Promise<number> {
  if (await runScaleChild(argv)) return 0;
  if (argv.includes('--child=memory')) {
    const n = Number(argv.find((a) => a.startsWith('--tasks='))?.slice('--tasks='.length) ?? 1000);
    process.stdout.write(JSON.stringify(await benchMemory(n)) + '\n');
    return 0;
  }
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const figures = selected(argv, quick);
  const progress = (text: string) => process.stderr.write(`bench: ${text}\n`);
  const left = FIGURES.filter((f) => !figures.includes(f) && f.slow);
  if (quick && left.length && !argv.some((a) => a.startsWith('--only='))) {
    progress(`--quick leaves out the slow figures (${left.map((f) => f.name).join(', ')}): --quick --only=${left.map((f) => f.name).join(',')} runs them small`);
  }
  const env = environment(quick, figures);
  const expected = figures.reduce((s, f) => s + (quick ? f.expectSec.quick : f.expectSec.full), 0);
  progress(`${figures.length} figure(s)${quick ? ', quick' : ''}: about ${Math.ceil(expected / 60)} min on a 2-core VM (${figures.map((f) => `${f.name} ~${quick ? f.expectSec.quick : f.expectSec.full}s`).join(', ')})`);
  if (!env.gc) progress('warning: run with node --expose-gc (npm run bench) for meaningful heap figures');
  if (!json) {
    console.log(`oxi bench — ${env.date} — node ${env.node}, ${env.platform}, ${env.cpus}, ${env.memGiB} GiB${quick ? ' (quick)' : ''}, load ${env.loadavgAtStart.join(' ')}`);
    console.log(line(['figure', 'measured', 'target', 'vs target']));
    console.log(line(WIDTHS.map((n) => '-'.repeat(n)).concat('-'.repeat(16))));
  }
  const started = performance.now();
  const results: Record<string, unknown> = {};
  const seconds: Record<string, number> = {};
  let failed = 0;
  for (const [i, f] of figures.entries()) {
    progress(`[${i + 1}/${figures.length}] ${f.name}: ${f.title} (~${quick ? f.expectSec.quick : f.expectSec.full}s)`);
    const t0 = performance.now();
    try {
      const figure = await f.run({ quick, progress });
      results[f.name] = figure;
      if (!json) for (const r of f.rows(figure as never)) console.log(line([`${r[0].startsWith(' ') ? '' : `${f.name}: `}${r[0]}`, r[1], r[2], r[3]]));
    } catch (error) {
      failed++;
      results[f.name] = { error: String((error as Error)?.stack ?? error) };
      if (!json) console.log(line([`${f.name}: FAILED`, String((error as Error)?.message ?? error).split('\n')[0], '', '']));
    }
    seconds[f.name] = round((performance.now() - t0) / 1000, 1);
    progress(`${f.name} done in ${seconds[f.name]} s`);
  }
  const totalSeconds = round((performance.now() - started) / 1000, 1);
  const loadavgAtEnd = os.loadavg().map((x) => round(x, 2));
  if (json) process.stdout.write(JSON.stringify({ env, ...results, seconds, totalSeconds, loadavgAtEnd }, null, 2) + '\n');
  else {
    console.log(`load average (1/5/15 min) at start ${env.loadavgAtStart.join(' ')}, at end ${loadavgAtEnd.join(' ')}`);
    console.log(`total ${totalSeconds} s; targets are guides, nothing is asserted. --json for the raw figures.`);
  }
  return failed ? 1 : 0;
}

main(process.argv).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
