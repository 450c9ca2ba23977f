/**
 * Figure 10: the workspace setup's cache. Ten tasks of one repository — a small npm project with a lockfile
 * (one dependency from the registry) — each in a fresh workspace, each set up with a real `npm ci` in the
 * sandbox, one after the other: the first fills the per-repository cache directory from the registry, the
 * later ones install from it. Reported: the first and the tenth setup's time, and their ratio.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EffectDeps } from '../actors/effects/deps.js';
import { LocalHost } from '../actors/hosts/local-host.js';
import { sandboxOf } from '../actors/sandbox/sandbox.js';
import { ensureSetup } from '../actors/setup/run-setup.js';
import { systemClock } from '../src/clock.js';
import { validateConfig } from '../src/config/validate.js';
import { openDb } from '../src/store/db.js';
import type { FigureOptions, Row } from './fixtures.js';

const PACKAGE = { name: 'oxi-bench-setup', private: true, type: 'module', dependencies: { 'is-number': '7.0.0' } };
const LOCK = {
  name: 'oxi-bench-setup',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'oxi-bench-setup', dependencies: { 'is-number': '7.0.0' } },
    'node_modules/is-number': {
      version: '7.0.0',
      resolved: 'https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz',
      integrity: 'sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==',
      license: 'MIT',
      engines: { node: '>=0.12.0' },
    },
  },
};

export interface SetupCacheFigure {
  tasks: number;
  sandbox: string;
  firstMs: number;
  tenthMs: number;
  /** Median of every setup after the first. */
  laterMedianMs: number;
  /** tenth / first: below 1 means the cache paid off. */
  ratio: number;
}

const git = (cwd: string, args: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd, stdio: 'ignore' });

export async function benchSetupCache(tasks: number): Promise<SetupCacheFigure> {
  const dir = mkdtempSync(join(os.tmpdir(), 'oxi-bench-setup-'));
  try {
    const main = join(dir, 'main');
    mkdirSync(main);
    writeFileSync(join(main, 'package.json'), `${JSON.stringify(PACKAGE, null, 2)}\n`);
    writeFileSync(join(main, 'package-lock.json'), `${JSON.stringify(LOCK, null, 2)}\n`);
    writeFileSync(join(main, '.gitignore'), 'node_modules/\n');
    git(main, ['init', '-q', '-b', 'main']);
    git(main, ['add', '-A']);
    git(main, ['commit', '-qm', 'init']);
    const adapter = validateConfig(
      { name: 'bench', repo: { path: main }, paths: { stateDir: join(dir, 'state') }, workspace: { setup: { command: ['npm', 'ci', '--prefer-offline', '--no-audit', '--no-fund'], cacheKey: ['package-lock.json'] } } },
      { configPath: join(dir, 'oxi.config.json') },
    );
    const db = openDb(adapter.paths.db);
    const host = new LocalHost('local');
    const deps = { db, clock: systemClock, adapter, hosts: new Map([['local', host]]), watchIntervalMs: 20 } as unknown as EffectDeps;
    const times: number[] = [];
    try {
      for (let i = 0; i < tasks; i++) {
        const ws = join(dir, 'ws', `T${i}`);
        mkdirSync(join(dir, 'ws'), { recursive: true });
        git(dir, ['clone', '-q', '--shared', main, ws]);
        const t = performance.now();
        const r = await ensureSetup(deps, { taskId: `T${i}`, attempt: 0, fix: 0, host: 'local', worktree: ws }, new AbortController().signal);
        times.push(performance.now() - t);
        if (!r.ran || !r.ok) throw new Error(`bench: the setup of task ${i} did not pass: ${JSON.stringify(r)}`);
      }
    } finally {
      db.close();
    }
    const later = [...times.slice(1)].sort((a, b) => a - b);
    const round = (n: number) => Number(n.toFixed(1));
    const last = times[times.length - 1];
    return {
      tasks,
      sandbox: (await sandboxOf(adapter, host).status()).kind,
      firstMs: round(times[0]),
      tenthMs: round(last),
      laterMedianMs: round(later[later.length >> 1] ?? NaN),
      ratio: Number((last / times[0]).toFixed(2)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Quick: four workspaces (first vs fourth) instead of ten; npm's start-up dominates either way. */
export const setupFigure = (opts: FigureOptions) => benchSetupCache(opts.quick ? 4 : 10);

export function setupRows(s: SetupCacheFigure): Row[] {
  return [
    [`workspace setup (npm ci, ${s.sandbox}): first / last of ${s.tasks} tasks`, `${s.firstMs} / ${s.tenthMs} ms`, '', `later median ${s.laterMedianMs} ms`],
    ['   ratio last / first (the cache at work)', `${s.ratio}×`, '< 1×', ''],
  ];
}
