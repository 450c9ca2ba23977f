/** Retention: old ledger rows and finished tasks' snapshots move to monthly archives; live and recent rows stay. */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';
import { appendEvent, listEvents } from '../../src/store/ledger.js';
import { lastEventOfKinds } from '../../src/store/ledger-queries.js';
import { archiveFileFor, compactStore, readArchivedEvents, readArchivedSnapshots, storeSize, vacuumStore } from '../../src/store/retention.js';
import { getSnapshotRow } from '../../src/store/snapshots.js';
import { getTask, ingestItems } from '../../src/store/tasks.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 6, 12);
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function bed() {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-retention-'));
  const file = join(dir, 'oxi.db');
  const db = openDb(file, { synchronous: 'OFF' });
  cleanups.push(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, file, db, archive: join(dir, 'archive') };
}

/** A task row in `status`, finished (or last moved) `daysAgo`, with a snapshot on its row. */
function task(db: Db, id: string, status: string, daysAgo: number, seq: number): void {
  ingestItems(db, [{ id, repo: 'r', tier: 0, title: id, description: '', seq }], NOW - 100 * DAY);
  const at = NOW - daysAgo * DAY;
  db.prepare(
    `UPDATE tasks SET status=?, last_progress_at=?, updated_at=?, snap_status='done', snap_value=?, snap_seq=?, snap_at=?, snapshot=?, snap_context='{"id":"x"}' WHERE id=?`,
  ).run(status, at, at, JSON.stringify(status), seq, at, JSON.stringify({ value: status, status: 'done' }), id);
}

/** `perDay` ledger rows for each task on each of the last `days` days, plus one a day with no task, in time order (as written). */
function history(db: Db, taskIds: string[], days: number, perDay: number): void {
  db.transaction(() => {
    for (let d = days; d >= 0; d--) {
      for (const id of taskIds) for (let i = 0; i < perDay; i++) appendEvent(db, { at: NOW - d * DAY + i, actor: `task:${id}`, kind: 'task.working', task: id, payload: { pad: 'x'.repeat(200) } });
      appendEvent(db, { at: NOW - d * DAY + 500, actor: 'host:local', kind: 'host.up', payload: { host: 'local' } });
    }
  })();
}

describe('retention (engine.retention)', () => {
  it('archives old rows of finished tasks and old task-less rows, keeps live tasks, recent rows and latches, and the archive reads back', () => {
    const { db, archive } = bed();
    task(db, 'OLDM', 'merged', 60, 1);
    task(db, 'OLDA', 'abandoned', 40, 2);
    task(db, 'NEWM', 'merged', 2, 3);
    task(db, 'LIVE', 'working', 0, 4); // live for 60 days: every one of its rows stays
    history(db, ['OLDM', 'OLDA', 'NEWM', 'LIVE'], 60, 3);
    // A gate closed long ago and never reopened: its last word stays (written out of order: a row
    // older than its neighbours waits for a later run, never blocks the others).
    appendEvent(db, { at: NOW - 50 * DAY, actor: 'engine', kind: 'forge.gate_closed', payload: { why: 'rate limit' } });
    const all = listEvents(db);
    const before = storeSize(db);

    const report = compactStore(db, { dir: archive, policy: { ledgerDays: 30, terminalSnapshotDays: 7 }, now: NOW });

    const cutoff = NOW - 30 * DAY;
    const kept = listEvents(db);
    const archived = all.filter((e) => !kept.some((k) => k.id === e.id));
    expect(report.ledgerRows).toBe(archived.length);
    // Removed: only old rows, of finished tasks or of no task.
    expect(archived.length).toBeGreaterThan(200);
    for (const e of archived) {
      expect(e.at).toBeLessThan(cutoff);
      expect(e.task === null || ['OLDM', 'OLDA', 'NEWM'].includes(e.task)).toBe(true);
    }
    // Kept: every row of the live task, every recent row, the newest host.up and the old gate row.
    expect(kept.filter((e) => e.task === 'LIVE')).toEqual(all.filter((e) => e.task === 'LIVE'));
    expect(kept.filter((e) => e.at >= cutoff)).toEqual(all.filter((e) => e.at >= cutoff));
    expect(lastEventOfKinds(db, ['forge.gate_closed', 'forge.gate_opened'])?.kind).toBe('forge.gate_closed');
    expect(kept.filter((e) => e.at < cutoff && e.task !== 'LIVE').map((e) => e.kind)).toEqual(['forge.gate_closed']);
    // Snapshots: the two finished more than 7 days ago moved; the recent finished one and the live one stayed.
    expect(report.snapshots).toBe(2);
    expect(getSnapshotRow(db, 'task:OLDM')).toBeUndefined();
    expect(getSnapshotRow(db, 'task:OLDA')).toBeUndefined();
    expect(getSnapshotRow(db, 'task:NEWM')?.value).toBe('"merged"');
    expect(getSnapshotRow(db, 'task:LIVE')?.value).toBe('"working"');
    expect(getTask(db, 'OLDM')).toMatchObject({ status: 'merged', title: 'OLDM' }); // the row itself stays
    // The archives (one per month) hold exactly what left, readable with plain SQLite.
    const files = readdirSync(archive).sort();
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(report.archives.sort()).toEqual(files.map((f) => join(archive, f)));
    const back = files.flatMap((f) => readArchivedEvents(join(archive, f))).sort((a, b) => a.id - b.id);
    expect(back).toEqual(archived);
    const snaps = files.flatMap((f) => readArchivedSnapshots(join(archive, f)));
    expect(snaps.map((s) => [s.task, s.task_status, s.value]).sort()).toEqual([['OLDA', 'abandoned', '"abandoned"'], ['OLDM', 'merged', '"merged"']]);
    expect(statSync(join(archive, files[0])).mode & 0o777).toBe(0o600);

    // The space: freed pages are reused by new rows; a VACUUM gives them back to the file system.
    const compacted = storeSize(db);
    vacuumStore(db);
    const vacuumed = storeSize(db);
    console.log(`retention: ${all.length} ledger rows, ${archived.length} archived; db ${before.bytes} B → ${compacted.bytes} B (${compacted.freePages} free pages) → ${vacuumed.bytes} B after VACUUM`);
    expect(compacted.freePages).toBeGreaterThan(0);
    expect(vacuumed.bytes).toBeLessThan(before.bytes);
    expect(vacuumed.freePages).toBe(0);
  });

  it('is idempotent, and a run cut short between archive and delete loses and duplicates nothing', () => {
    const { db, archive } = bed();
    task(db, 'OLDM', 'merged', 60, 1);
    history(db, ['OLDM'], 45, 2);
    const all = listEvents(db);
    const policy = { ledgerDays: 30, terminalSnapshotDays: 7 };
    const first = compactStore(db, { dir: archive, policy, now: NOW });
    expect(first.ledgerRows).toBeGreaterThan(0);
    expect(compactStore(db, { dir: archive, policy, now: NOW })).toEqual({ ledgerRows: 0, snapshots: 0, archives: [], more: false });
    // As if the delete had not committed: the archived rows are back in the live database.
    const archivedIds = new Set(readdirSync(archive).flatMap((f) => readArchivedEvents(join(archive, f))).map((e) => e.id));
    const ins = db.prepare('INSERT INTO event (id, at, actor, kind, task, payload) VALUES (?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const e of all) if (archivedIds.has(e.id)) ins.run(e.id, e.at, e.actor, e.kind, e.task, e.payload);
    })();
    const again = compactStore(db, { dir: archive, policy, now: NOW });
    expect(again.ledgerRows).toBe(archivedIds.size);
    const archivedAfter = readdirSync(archive).flatMap((f) => readArchivedEvents(join(archive, f)));
    expect(archivedAfter.length).toBe(archivedIds.size);
    expect(listEvents(db).length + archivedAfter.length).toBe(all.length);
  });

  it('moves a backlog a slice per run: maxRows bounds one run, `more` says to come back', () => {
    const { db, archive } = bed();
    task(db, 'OLDM', 'merged', 60, 1);
    history(db, ['OLDM'], 59, 100);
    const policy = { ledgerDays: 30, terminalSnapshotDays: 7 };
    const first = compactStore(db, { dir: archive, policy, now: NOW, maxRows: 2000 });
    expect(first).toMatchObject({ ledgerRows: 2000, more: true });
    const second = compactStore(db, { dir: archive, policy, now: NOW, maxRows: 2000 });
    expect(second.more).toBe(false);
    // Days 31–59 are past the 30: 100 task rows and one host.up each (a newer host.up exists, so none is a last word).
    expect(first.ledgerRows + second.ledgerRows).toBe(29 * 101);
  });

  it('never archives the snapshot of a task requeued since: only finished tasks lose theirs', () => {
    const { db, archive } = bed();
    task(db, 'BACK', 'queued', 60, 1); // an abandoned task the operator retried: queued again
    const r = compactStore(db, { dir: archive, policy: { ledgerDays: 30, terminalSnapshotDays: 7 }, now: NOW });
    expect(r.snapshots).toBe(0);
    expect(getSnapshotRow(db, 'task:BACK')).toBeDefined();
    expect(existsSync(archiveFileFor(archive, NOW - 60 * DAY))).toBe(false);
  });
});
