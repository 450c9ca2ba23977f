/**
 * Figure `write`: a persisted task transition against a bare SQLite write of the same bytes (FULL, then
 * NORMAL for the CPU side), the commit alone, the in-memory share, and the WAL pages each commit appends.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { EngineHandle } from '../src/runtime/engine.js';
import { countEventsOfActor } from '../src/store/ledger-queries.js';
import { bareBlobWriter, checkpointTruncate, persistedBytes, setSynchronous, setWalAutocheckpoint, walFrameBytes } from '../src/store/probes.js';
import { boot, dropBed, insertTasks, makeBed, median, parkedEffects, quiesce, round, vs, type Bed, type FigureOptions, type Row } from './fixtures.js';

interface WriteFigures {
  persistedUs: number;
  bareUs: number;
  ratio: number;
  /** The flush alone (snapshot, rows, commit): the persisted transition minus xstate's transition. */
  commitUs: number;
  commitRatio: number;
  bytes: number;
  samples: number;
}

async function benchPersistedTransition(quick: boolean) {
  const bed = makeBed('write');
  try {
    const [id] = insertTasks(bed.db, 1, 'planning');
    const handle = boot(bed, parkedEffects());
    await quiesce(handle);
    const actor = `task:${id}`;
    const db = bed.db;
    const persister = handle.persister;

    // One kill/resume cycle first, so the snapshot carries its usual history value, then size the writes.
    handle.send(actor, { type: 'engine.killed', reason: 'bench', hard: false });
    persister.flush();
    handle.send(actor, { type: 'engine.resumed' });
    persister.flush();
    const bytes = persistedBytes(db, actor, id);
    const bare = bareBlobWriter(db);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789{}":,';
    let body = '';
    for (let i = 0; i < bytes; i++) body += alphabet[(i * 7919) % alphabet.length];

    const run = (n: number): WriteFigures => {
      const persisted: number[] = [];
      const commits: number[] = [];
      const plain: number[] = [];
      for (let i = 0; i < n; i++) {
        // Interleaved, so fsync jitter and WAL checkpoints fall on both sides alike.
        const ev = i % 2 === 0 ? { type: 'engine.killed', reason: 'bench', hard: false } : { type: 'engine.resumed' };
        let t0 = performance.now();
        handle.send(actor, ev);
        const t1 = performance.now();
        persister.flush(); // the flush the persister would run on the next microtask, run now to time it alone
        const t2 = performance.now();
        persisted.push(t2 - t0);
        commits.push(t2 - t1);
        t0 = performance.now();
        bare(body);
        plain.push(performance.now() - t0);
      }
      const p = median(persisted) * 1000;
      const b = median(plain) * 1000;
      const c = median(commits) * 1000;
      return { persistedUs: round(p, 1), bareUs: round(b, 1), ratio: round(p / b, 2), commitUs: round(c, 1), commitRatio: round(c / b, 2), bytes, samples: n };
    };
    const n = quick ? 200 : 1000;
    run(50); // warm-up
    const full = run(n);
    setSynchronous(db, 'NORMAL');
    run(50);
    const normal = run(n);
    setSynchronous(db, 'FULL');
    const events = countEventsOfActor(db, actor);
    const walPagesPerCommit = walPagesOf(bed, handle, actor, bare, body);
    // Last, as a paused persister stays paused.
    const inMemoryUs = inMemorySendUs(handle, actor, n);
    await handle.stop();
    return { full, normal, inMemoryUs, walPagesPerCommit, ledgerRows: events };
  } finally {
    dropBed(bed);
  }
}

/** Where the fsync side goes: WAL frames (pages) appended per commit, persisted transition and bare INSERT each alone. */
function walPagesOf(bed: Bed, handle: EngineHandle, actor: string, bare: ReturnType<typeof bareBlobWriter>, body: string) {
  const db = bed.db;
  const persister = handle.persister;
  const walFile = `${bed.adapter.paths.db}-wal`;
  const frame = walFrameBytes(db);
  const framesPer = (fn: (i: number) => void, k = 100): number => {
    checkpointTruncate(db);
    const before = statSync(walFile).size;
    for (let i = 0; i < k; i++) fn(i);
    return round((statSync(walFile).size - before) / frame / k, 2);
  };
  setWalAutocheckpoint(db, 0);
  const walPagesPerCommit = {
    persisted: framesPer((i) => {
      handle.send(actor, i % 2 === 0 ? { type: 'engine.killed', reason: 'bench', hard: false } : { type: 'engine.resumed' });
      persister.flush();
    }),
    bare: framesPer(() => bare(body)),
  };
  setWalAutocheckpoint(db, 1000);
  return walPagesPerCommit;
}

/** The in-memory share: the same transitions with the persister paused (no SQLite at all). Leaves the persister paused. */
function inMemorySendUs(handle: EngineHandle, actor: string, n: number): number {
  const persister = handle.persister;
  persister.pause();
  const mem: number[] = [];
  for (let i = 0; i < 2 * n; i++) {
    const t0 = performance.now();
    handle.send(actor, i % 2 === 0 ? { type: 'engine.killed', reason: 'bench', hard: false } : { type: 'engine.resumed' });
    mem.push(performance.now() - t0);
  }
  return round(median(mem.slice(n)) * 1000, 1);
}

export const writeFigure = (opts: FigureOptions) => benchPersistedTransition(opts.quick);

export function writeRows(write: Awaited<ReturnType<typeof benchPersistedTransition>>): Row[] {
  const w = write.full;
  return [
    ['persisted task transition, FULL (median)', `${w.persistedUs} µs`, '', ''],
    [`   bare INSERT of ${w.bytes} B in its own txn, FULL`, `${w.bareUs} µs`, '', ''],
    ['   ratio persisted / bare', `${w.ratio}×`, '≤ 1.5×', vs(w.ratio, 1.5)],
    ['   its commit alone (snapshot + rows + fsync) / bare', `${w.commitUs} µs, ${w.commitRatio}×`, '', ''],
    ['   same pair at synchronous=NORMAL (CPU side)', `${write.normal.persistedUs} / ${write.normal.bareUs} µs`, '', `(${write.normal.ratio}×)`],
    ['   in-memory part: send() alone, no write', `${write.inMemoryUs} µs`, '', ''],
    ['   WAL pages appended per commit: persisted / bare', `${write.walPagesPerCommit.persisted} / ${write.walPagesPerCommit.bare}`, '', ''],
  ];
}
