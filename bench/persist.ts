/**
 * Figure 11: pages per persisted transition, by storage layout. Each layout gets a fresh database of
 * realistic size (task rows and a ledger spread over them), then one task transition's writes are
 * committed, interleaved with a bare INSERT of the same bytes, at synchronous FULL and NORMAL.
 * Reported per layout: the WAL pages (frames) a commit appends, its median time, the bare write's,
 * and their ratio. The layout in use is `snapshotOnRow`; `snapshotApart` is the one before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/store/db.js';
import { setSynchronous } from '../src/store/probes.js';
import { LAYOUTS, layoutCommit, measureLayout, seedLayout, type Layout, type LayoutFigure } from '../src/store/layout-probes.js';

export interface PersistFigure {
  tasks: number;
  ledgerRows: number;
  samples: number;
  layouts: Array<{ layout: Layout; what: string; full: LayoutFigure; normal: LayoutFigure }>;
}

function measureOne(layout: Layout, tasks: number, rows: number, samples: number): { full: LayoutFigure; normal: LayoutFigure } {
  const dir = mkdtempSync(join(os.tmpdir(), 'oxi-bench-persist-'));
  const file = join(dir, 'oxi.db');
  const db = openDb(file);
  try {
    const ids = seedLayout(db, layout, tasks, rows, Date.now());
    const commit = layoutCommit(db, layout, ids, rows + tasks);
    const full = measureLayout(db, `${file}-wal`, commit, samples);
    setSynchronous(db, 'NORMAL');
    const normal = measureLayout(db, `${file}-wal`, commit, samples);
    return { full, normal };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

export async function benchPersist(options: { quick: boolean; progress: (line: string) => void }): Promise<PersistFigure> {
  const tasks = options.quick ? 100 : 400;
  const ledgerRows = options.quick ? 20_000 : 100_000;
  const samples = options.quick ? 200 : 1000;
  const layouts: PersistFigure['layouts'] = [];
  for (const layout of Object.keys(LAYOUTS) as Layout[]) {
    const m = measureOne(layout, tasks, ledgerRows, samples);
    layouts.push({ layout, what: LAYOUTS[layout], ...m });
    options.progress(
      `11 ${layout}: ${m.full.pagesPerCommit} pages/commit (bare ${m.full.barePagesPerCommit}); FULL ${m.full.commitUs} vs ${m.full.bareUs} µs = ${m.full.ratio}×; NORMAL ${m.normal.commitUs} vs ${m.normal.bareUs} µs = ${m.normal.ratio}×`,
    );
    await new Promise((r) => setImmediate(r));
  }
  return { tasks, ledgerRows, samples, layouts };
}

/** Registry entry of `bench/run.ts`. */
export const persistFigure = (opts: { quick: boolean; progress: (line: string) => void }) => benchPersist(opts);

/** One block per layout: pages per commit, then the commit against a bare write of the same bytes. */
export function persistRows(p: PersistFigure): Array<[string, string, string, string]> {
  return p.layouts.flatMap((l): Array<[string, string, string, string]> => [
    [`${l.layout} (${p.tasks} tasks, ${p.ledgerRows.toLocaleString('en')} ledger rows): WAL pages per commit`, `${l.full.pagesPerCommit}`, '', `bare ${l.full.barePagesPerCommit}`],
    ['   commit / bare write, FULL', `${l.full.ratio}×`, l.layout === 'snapshotOnRow' ? '≤ 1.5×' : '', `${l.full.commitUs} vs ${l.full.bareUs} µs`],
    ['   commit / bare write, NORMAL', `${l.normal.ratio}×`, '', `${l.normal.commitUs} vs ${l.normal.bareUs} µs`],
  ]);
}
