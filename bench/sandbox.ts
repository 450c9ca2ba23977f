/**
 * Figure 9: what the sandbox adds to one agent launch. The same trivial agent (`node -e 0`) launched
 * unsandboxed and sandboxed, alternately in one run on the same machine: the sandboxed launch counts the
 * wrap (the host's launch facts gathered by a small sh script, the mounts planned) and bwrap's start.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalHost } from '../actors/hosts/local-host.js';
import { sandboxOf } from '../actors/sandbox/sandbox.js';
import { validateConfig } from '../src/config/validate.js';
import type { FigureOptions, Row } from './fixtures.js';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (n: number, d = 2) => Number(n.toFixed(d));

export interface SandboxLaunchFigure {
  runs: number;
  kind: string;
  available: boolean;
  plainMs: number;
  sandboxedMs: number;
  wrapMs: number;
  bwrapStartMs: number;
  ratio: number;
}

export async function benchSandboxLaunch(runs: number): Promise<SandboxLaunchFigure> {
  const dir = mkdtempSync(join(os.tmpdir(), 'oxi-bench-sandbox-'));
  try {
    const main = join(dir, 'main');
    mkdirSync(main);
    execFileSync('git', ['init', '-q', '-b', 'main', main]);
    execFileSync('git', ['-C', main, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '--allow-empty', '-m', 'init']);
    const ws = join(main, '.oxi', 'worktrees', 'b-default', 'T1');
    mkdirSync(join(main, '.oxi', 'worktrees', 'b-default'), { recursive: true });
    execFileSync('git', ['clone', '-q', '--shared', main, ws]);
    const adapter = validateConfig({ name: 'b' }, { configPath: join(main, 'oxi.config.json') });
    const sandbox = sandboxOf(adapter, new LocalHost('local'));
    const status = await sandbox.status();
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const agent = [process.execPath, '-e', '0'];
    const launch = (argv: string[]) => {
      const r = spawnSync(argv[0], argv.slice(1), { cwd: ws, env, stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`bench: ${argv[0]} exited ${r.status ?? r.signal}`);
    };
    const plain: number[] = [];
    const sandboxed: number[] = [];
    const wraps: number[] = [];
    const starts: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      let t = performance.now();
      launch(agent);
      const p = performance.now() - t;
      t = performance.now();
      const { argv } = await sandbox.wrap({ role: 'worker', backend: 'scripted', argv: agent, env, workspace: ws, writable: true, waited: false });
      const w = performance.now() - t;
      launch(argv);
      const total = performance.now() - t;
      if (i < 2) continue; // warm-up: page cache, first bwrap
      plain.push(p);
      wraps.push(w);
      starts.push(total - w);
      sandboxed.push(total);
    }
    return {
      runs,
      kind: status.kind,
      available: status.available,
      plainMs: round(median(plain)),
      sandboxedMs: round(median(sandboxed)),
      wrapMs: round(median(wraps)),
      bwrapStartMs: round(median(starts)),
      ratio: round(median(sandboxed) / median(plain)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const sandboxFigure = (opts: FigureOptions) => benchSandboxLaunch(opts.quick ? 10 : 40);

export function sandboxRows(s: SandboxLaunchFigure): Row[] {
  return [
    [`agent launch (node -e 0), median of ${s.runs}: unsandboxed / ${s.kind}`, `${s.plainMs} / ${s.sandboxedMs} ms`, '', s.available ? '' : 'no sandbox here'],
    ['   of which wrap (launch facts + mounts) / bwrap start + run', `${s.wrapMs} / ${s.bwrapStartMs} ms`, '', ''],
    ['   ratio sandboxed / unsandboxed launch', `${s.ratio}×`, '', ''],
  ];
}
