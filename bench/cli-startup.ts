/**
 * CLI startup: the wall time of `oxi --version`, `oxi --help` and `oxi status --json` (in a fresh sample
 * project), each next to bare `node -e 0` started in the same round, so the figure is a ratio over node's
 * own start. The four are run in turn, round after round, so a load spike hits all of them alike. A second
 * part times importing the heavy packages a command may still need (what bounds what is left).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createSampleProject } from '../src/demo/sample-project.js';
import { median, round, type FigureOptions, type Row } from './fixtures.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OXI = join(ROOT, 'bin', 'oxi.js');
const PACKAGES = ['zod', 'execa', 'xstate', 'better-sqlite3', 'commander'] as const;

interface Timed {
  ms: number;
  /** Median wall time over node's own (`node -e 0`, same rounds). */
  ratio: number;
}

export interface CliStartupFigure {
  runs: number;
  nodeMs: number;
  version: Timed;
  help: Timed;
  status: Timed;
  /** ms to import each package in a fresh node (median), the floor of a command that needs it. */
  imports: Record<string, number>;
}

function wall(argv: string[], cwd: string): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`bench: node ${argv.join(' ')} exited ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 500)}`);
  return ms;
}

/** ms to import one package, measured inside a fresh node (its start excluded). */
function importMs(pkg: string): number {
  const code = `const t = performance.now(); await import(${JSON.stringify(pkg)}); process.stdout.write(String(performance.now() - t));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench: importing ${pkg} failed: ${r.stderr.slice(0, 500)}`);
  return Number(r.stdout);
}

export async function cliStartupFigure({ quick, progress }: FigureOptions): Promise<CliStartupFigure> {
  const runs = quick ? 5 : 15;
  const parent = mkdtempSync(join(os.tmpdir(), 'oxi-bench-cli-'));
  try {
    const dir = join(parent, 'project');
    createSampleProject({ dir, tasks: 3 });
    const cases = { node: ['-e', '0'], version: [OXI, '--version'], help: [OXI, '--help'], status: [OXI, 'status', '--json'] };
    const samples: Record<keyof typeof cases, number[]> = { node: [], version: [], help: [], status: [] };
    // One warm-up round: the page cache, and the database status creates on its first run.
    for (const argv of Object.values(cases)) wall(argv, dir);
    for (let i = 0; i < runs; i++) {
      for (const [name, argv] of Object.entries(cases) as Array<[keyof typeof cases, string[]]>) samples[name].push(wall(argv, dir));
      progress(`cli: round ${i + 1}/${runs}`);
    }
    const nodeMs = median(samples.node);
    const timed = (xs: number[]): Timed => ({ ms: round(median(xs), 1), ratio: round(median(xs) / nodeMs, 2) });
    const imports: Record<string, number> = {};
    for (const pkg of PACKAGES) imports[pkg] = round(median(Array.from({ length: quick ? 3 : 5 }, () => importMs(pkg))), 1);
    return { runs, nodeMs: round(nodeMs, 1), version: timed(samples.version), help: timed(samples.help), status: timed(samples.status), imports };
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
}

export function cliStartupRows(f: CliStartupFigure): Row[] {
  const row = (label: string, t: Timed): Row => [`   ${label}`, `${t.ms} ms (${t.ratio}× node)`, '', ''];
  return [
    [`wall time, median of ${f.runs}: bare node -e 0 (baseline)`, `${f.nodeMs} ms`, '', ''],
    row('oxi --version', f.version),
    row('oxi --help', f.help),
    row('oxi status --json (sample project)', f.status),
    ['   importing in a fresh node: ' + Object.keys(f.imports).join(' / '), `${Object.values(f.imports).join(' / ')} ms`, '', ''],
  ];
}
