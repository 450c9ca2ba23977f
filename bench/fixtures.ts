/**
 * What the bench's figures share: statistics, the figure contract, and the engine fixtures (a temp bed
 * with a real DB, parked effects, boot, waits on commits). Nothing here measures anything by itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fromEffect } from '../actors/effects/effect-logic.js';
import { EFFECT_NAMES, effectPlaceholders, type Plan } from '../machines/effects.js';
import { systemClock } from '../src/clock.js';
import type { Adapter } from '../src/config/schema.js';
import { validateConfig } from '../src/config/validate.js';
import type { Forge, HostTransport, Notifier } from '../src/ports.js';
import { startEngine, type EngineHandle } from '../src/runtime/engine.js';
import type { CommittedChange } from '../src/store/persister.js';
import { openDb, type Db } from '../src/store/db.js';
import { seedTaskRows } from '../src/store/probes.js';

export type Effects = typeof effectPlaceholders;

/** What every figure gets: `quick` asks for fewer repetitions; `progress` prints a line on stderr. */
export interface FigureOptions {
  quick: boolean;
  progress: (line: string) => void;
}
/** One table row: figure, measured, target, how far from the target (or a note). */
export type Row = [string, string, string, string];

/** The compiled runner, for figures that measure in a fresh child process (`--child=…`). */
export const BENCH_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'run.js');

export const gc = (): boolean => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) return false;
  g();
  g();
  return true;
};
export const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const pct = (xs: number[], p: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
export const round = (n: number, d = 3): number => (Number.isFinite(n) ? Number(n.toFixed(d)) : n);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const never = <T>() => new Promise<T>(() => {});
/** "0.42× of target" next to a figure with a target, '' when the figure is missing. */
export const vs = (v: number, target: number) => (Number.isFinite(v) ? `${(v / target).toFixed(2)}× of target` : '');

// ---------------------------------------------------------------- engine fixtures

export const silentNotifier: Notifier = { notify: async () => {} };
/** Only what the pool's overlap gate reads; every other forge call is behind a stubbed effect. */
export const stubForge = { listOpenPrs: async () => [] } as unknown as Forge;

/** Every effect parked: invocations start and never settle, so each actor sits in the state it entered. */
export function parkedEffects(): Effects {
  const parked = fromEffect<never, unknown>(() => never());
  return Object.fromEntries(EFFECT_NAMES.map((n) => [n, parked])) as unknown as Effects;
}

export const PLAN: Plan = { files_touched: ['src/a.js', 'test/a.test.js'], tests: ['test/a.test.js'], dependencies: [], risk: 'low', summary: 'bench plan' };

export interface Bed {
  dir: string;
  adapter: Adapter;
  db: Db;
}

/** A temp state dir with a validated adapter (`engine` merged in) and a fresh DB (openDb defaults: WAL, synchronous=FULL). */
export function makeBed(label: string, engine: Record<string, unknown> = {}): Bed {
  const dir = mkdtempSync(join(os.tmpdir(), `oxi-bench-${label}-`));
  const raw = {
    name: 'bench',
    repo: { path: '.', mainBranch: 'main', forge: { kind: 'local' } },
    hosts: [{ name: 'local', kind: 'local', maxWorkers: 8 }],
    planTier: { maxWorkers: 8 },
    checks: { command: ['true'], timeoutMs: 10_000 },
    agents: { scripted: { script: 'script.json' } },
    engine: { maxLiveTasks: 5000, ...engine },
  };
  const adapter = validateConfig(raw, { configPath: join(dir, 'oxi.config.json') });
  const db = openDb(adapter.paths.db);
  return { dir, adapter, db };
}

export function dropBed(bed: Bed): void {
  try {
    bed.db.close();
  } catch {
    /* already closed */
  }
  rmSync(bed.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

export const taskId = (i: number) => `T${i % 3}-${1001 + i}`;

/** N task rows (from the `from`-th id on) as the seeder would leave them, with no snapshot: the engine boots them fresh. */
export function insertTasks(db: Db, n: number, status: string, from = 0): string[] {
  const rows = Array.from({ length: n }, (_, k) => from + k).map((i) => ({
    id: taskId(i),
    repo: 'bench',
    tier: i % 3,
    title: `Add \`fn${i}(x)\` to the math library`,
    description: `Export \`fn${i}\` from \`src/fn${i}.js\`, returning \`x * ${(i % 7) + 2}\`, with a test.`,
    status,
    seq: i,
  }));
  seedTaskRows(db, rows, Date.now());
  return rows.map((r) => r.id);
}

/** The real engine on the bed, every port stubbed; `shardSize` Infinity is the flat supervisor (the shards figure's baseline). */
export function boot(bed: Bed, effects: Partial<Effects>, shardSize?: number): EngineHandle {
  return startEngine({
    shardSize,
    adapter: bed.adapter,
    db: bed.db,
    clock: systemClock,
    effects,
    forge: stubForge,
    hosts: new Map<string, HostTransport>(),
    agents: {} as never,
    notifier: silentNotifier,
    onFatal: (error) => {
      throw error;
    },
  });
}

/** Resolves with the time of the commit at which `done` first holds over the committed changes seen so far. */
export function commitWhen(handle: EngineHandle, done: (change: CommittedChange) => boolean, timeoutMs = 120_000): Promise<{ at: number; commits: number }> {
  return new Promise((resolve, reject) => {
    let commits = 0;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a commit`));
    }, timeoutMs);
    const off = handle.onCommit((changes) => {
      commits++;
      let hit = false;
      for (const c of changes) if (done(c)) hit = true;
      if (hit) {
        clearTimeout(timer);
        off();
        resolve({ at: performance.now(), commits });
      }
    });
  });
}

/** A predicate that becomes true once every id in `ids` has committed with `status`. */
export function allReach(ids: Iterable<string>, status: string) {
  const left = new Set([...ids].map((id) => `task:${id}`));
  return (c: CommittedChange) => {
    if (c.status === status) left.delete(c.actor);
    return left.size === 0;
  };
}

/** Waits until no commit has happened for `quietMs`. */
export async function quiesce(handle: EngineHandle, quietMs = 150, maxMs = 30_000): Promise<void> {
  let last = performance.now();
  const off = handle.onCommit(() => (last = performance.now()));
  const start = performance.now();
  try {
    while (performance.now() - last < quietMs && performance.now() - start < maxMs) await sleep(quietMs / 3);
  } finally {
    off();
  }
}
