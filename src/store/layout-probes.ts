/**
 * Storage-layout probes for the benchmarks (bench/persist.ts): what one persisted task transition
 * writes under each layout the ledger and the snapshot could have, in a database of realistic size,
 * against a bare write of the same bytes. Pages per commit are the WAL frames a commit appends.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Db } from './db.js';

/** The layouts compared: where the snapshot lives, and how the ledger is keyed. */
export const LAYOUTS = {
  /** Before migration 7: snapshot row, task row, ledger row (rowid), ledger task index. */
  snapshotApart: 'snapshot in actor_snapshot + task row + ledger (rowid) + ledger task index',
  /** Since migration 7: the snapshot on the task row. */
  snapshotOnRow: 'snapshot on the task row + ledger (rowid) + ledger task index',
  /** The ledger clustered by task, no global order (a reader of "rows since id N" scans the table). */
  clustered: 'snapshot on the task row + ledger WITHOUT ROWID, key (task, seq)',
  /** Clustered by task, with a unique index on a global seq for cursors and the feed. */
  clusteredWithSeq: 'snapshot on the task row + ledger WITHOUT ROWID (task, seq) + global seq index',
} as const;
export type Layout = keyof typeof LAYOUTS;

const SNAPSHOT = JSON.stringify({ status: 'active', value: { live: 'planning' }, historyValue: {}, children: { plan: { src: 'plan', syncSnapshot: false } }, pad: 'p'.repeat(300) });
const CONTEXT = JSON.stringify({ plan: { files_touched: ['src/a.js', 'test/a.test.js'], summary: 's'.repeat(120) }, attempt: 1 });
const PAYLOAD = '{"from":"held","event":"engine.resumed"}';

/** Task rows (with their snapshot where the layout keeps it) and `rows` ledger rows spread over them. */
export function seedLayout(db: Db, layout: Layout, tasks: number, rows: number, now: number): string[] {
  const ids = Array.from({ length: tasks }, (_, i) => `T${i % 3}-${1001 + i}`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS probe_event (task TEXT NOT NULL, seq INTEGER NOT NULL, id INTEGER NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL,
      kind TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (task, seq)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS bench_blob (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
  `);
  if (layout === 'clusteredWithSeq') db.exec('CREATE UNIQUE INDEX IF NOT EXISTS probe_event_id ON probe_event(id)');
  const task = db.prepare(
    `INSERT INTO tasks (id, repo, tier, title, description, status, plan, seq, last_progress_at, created_at, updated_at)
     VALUES (?, 'bench', 0, 'Add fn(x) to the math library', 'Export fn from src/fn.js, returning x * 2, with a test.', 'planning', ?, ?, ?, ?, ?)`,
  );
  const onRow = db.prepare(`UPDATE tasks SET snap_status='active', snap_value='{"live":"planning"}', snap_seq=?, snap_at=?, snapshot=?, snap_context=? WHERE id=?`);
  const apart = db.prepare(`INSERT INTO actor_snapshot (actor, machine, status, value, snapshot, context, seq, updated_at) VALUES (?, 'task', 'active', '{"live":"planning"}', ?, ?, ?, ?)`);
  const event = db.prepare(`INSERT INTO event (at, actor, kind, task, payload) VALUES (?, ?, 'task.planning', ?, '${PAYLOAD}')`);
  const clustered = db.prepare(`INSERT INTO probe_event (task, seq, id, at, actor, kind, payload) VALUES (?, ?, ?, ?, ?, 'task.planning', '${PAYLOAD}')`);
  db.transaction(() => {
    ids.forEach((id, i) => {
      task.run(id, CONTEXT, i, now, now, now);
      if (layout === 'snapshotApart') apart.run(`task:${id}`, SNAPSHOT, CONTEXT, i, now);
      else onRow.run(i, now, SNAPSHOT, CONTEXT, id);
    });
    for (let i = 1; i <= rows; i++) {
      const id = ids[(i * 7) % ids.length];
      if (layout === 'clustered' || layout === 'clusteredWithSeq') clustered.run(id, i, i, now, `task:${id}`);
      else event.run(now, `task:${id}`, id);
    }
  })();
  return ids;
}

/** One persisted transition's writes under `layout`, as a function of the sample number (tasks taken in turn). */
export function layoutCommit(db: Db, layout: Layout, ids: string[], firstSeq: number): (i: number) => void {
  const task = db.prepare(`UPDATE tasks SET status=?, last_progress_at=?, updated_at=? WHERE id=?`);
  const taskWithSnapshot = db.prepare(`UPDATE tasks SET status=?, last_progress_at=?, updated_at=?, snap_status='active', snap_value=?, snap_seq=?, snap_at=?, snapshot=? WHERE id=?`);
  const snapshot = db.prepare(`UPDATE actor_snapshot SET status='active', value=?, snapshot=?, seq=?, updated_at=? WHERE actor=?`);
  const event = db.prepare(`INSERT INTO event (at, actor, kind, task, payload) VALUES (?, ?, ?, ?, '${PAYLOAD}')`);
  const clustered = db.prepare(`INSERT INTO probe_event (task, seq, id, at, actor, kind, payload) VALUES (?, ?, ?, ?, ?, ?, '${PAYLOAD}')`);
  let seq = firstSeq;
  const write = db.transaction((i: number) => {
    const id = ids[(i * 13) % ids.length];
    const at = Date.now();
    const status = i % 2 ? 'planning' : 'held';
    const value = i % 2 ? '{"live":"planning"}' : '"held"';
    seq++;
    if (layout === 'snapshotApart') {
      snapshot.run(value, SNAPSHOT, seq, at, `task:${id}`);
      task.run(status, at, at, id);
    } else taskWithSnapshot.run(status, at, at, value, seq, at, SNAPSHOT, id);
    if (layout === 'clustered' || layout === 'clusteredWithSeq') clustered.run(id, seq, seq, at, `task:${id}`, `task.${status}`);
    else event.run(at, `task:${id}`, `task.${status}`, id);
  });
  return (i) => void write.immediate(i);
}

/** Bytes those writes carry: the snapshot, the task row's columns and a ledger row. */
export function layoutBytes(): number {
  return SNAPSHOT.length + 240 + 60 + PAYLOAD.length;
}

export interface LayoutFigure {
  commitUs: number;
  bareUs: number;
  ratio: number;
  pagesPerCommit: number;
  barePagesPerCommit: number;
}

/** Interleaved samples of the layout's commit and a bare INSERT of the same bytes; WAL growth gives the pages. */
export function measureLayout(db: Db, walFile: string, commit: (i: number) => void, samples: number): LayoutFigure {
  const ins = db.prepare('INSERT INTO bench_blob (body) VALUES (?)');
  const bare = db.transaction((body: string) => ins.run(body));
  const body = 'b'.repeat(layoutBytes());
  const frame = (db.pragma('page_size', { simple: true }) as number) + 24;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('wal_autocheckpoint = 0');
  const c: number[] = [];
  const b: number[] = [];
  let commitBytes = 0;
  let bareBytes = 0;
  for (let i = 0; i < samples + 50; i++) {
    const s0 = statSync(walFile).size;
    let t = performance.now();
    commit(i);
    const dc = performance.now() - t;
    const s1 = statSync(walFile).size;
    t = performance.now();
    bare.immediate(body);
    const db_ = performance.now() - t;
    const s2 = statSync(walFile).size;
    if (i < 50) continue; // warm-up
    c.push(dc);
    b.push(db_);
    commitBytes += s1 - s0;
    bareBytes += s2 - s1;
  }
  db.pragma('wal_autocheckpoint = 1000');
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1] * 1000;
  const commitUs = med(c);
  const bareUs = med(b);
  const r = (n: number, d = 1) => Number(n.toFixed(d));
  return { commitUs: r(commitUs), bareUs: r(bareUs), ratio: r(commitUs / bareUs, 2), pagesPerCommit: r(commitBytes / frame / samples, 2), barePagesPerCommit: r(bareBytes / frame / samples, 2) };
}
