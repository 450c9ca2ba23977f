/**
 * Log retention on the engine's machine: a finished task's agent logs (every role) go logsKeepMs after it ended,
 * not before; a live task's stay; a link out is refused and what it points at survives; each removal is in the
 * ledger and happens once; a task retried and finished again has its new logs removed in turn.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_ROWS_PER_TICK, sweepLogs } from '../../../actors/effects/log-janitor.js';
import { loadAdapter } from '../../../src/config/load.js';
import type { Adapter } from '../../../src/config/schema.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { logsRemovedAt } from '../../../src/store/task-logs.js';
import { ingestItems } from '../../../src/store/tasks.js';
import { sampleProject } from '../../helpers/project.js';

const DAY = 86_400_000;
let p: ReturnType<typeof sampleProject>;
let adapter: Adapter;
let db: Db;
let next = 0;

beforeAll(async () => {
  p = sampleProject({ tasks: LOG_ROWS_PER_TICK + 20 });
  adapter = await loadAdapter({ cwd: p.dir });
  db = openDb(p.db);
  ingestItems(db, p.ids.map((id, seq) => ({ id, repo: 'demo', tier: 0, title: id, description: '', seq })), Date.now());
});
afterAll(() => {
  db?.close();
  p?.cleanup();
});

const dirOf = (id: string) => join(adapter.paths.logs, id);

/** A task with the stream files of every role under the engine's logs, in `status`, ended `endedAgo` ago. */
function task(status: string, endedAgo: number, now = Date.now()): string {
  const id = p.ids[next++];
  const dir = dirOf(id);
  mkdirSync(join(dir, 'shadow'), { recursive: true });
  for (const f of ['planner-a1-claude-x.ndjson', 'worker-a0-f0.ndjson', 'worker-a0-f0.json', 'critic-a1-claude-y.ndjson', 'setup-a0-f0.log', 'setup.json', 'shadow/shadow-a0-f0.ndjson']) writeFileSync(join(dir, f), '{}\n');
  db.prepare(`UPDATE tasks SET host='local', status=?, updated_at=? WHERE id=?`).run(status, now - endedAgo + next, id);
  return id;
}

describe('log retention on the engine\'s machine', () => {
  it('removes a finished task\'s logs after logsKeepMs and not before, keeps a live task\'s, records each removal once', async () => {
    expect(adapter.engine.janitor.logsKeepMs).toBe(14 * DAY);
    expect(adapter.engine.janitor.logsKeepMs).toBeGreaterThan(adapter.engine.janitor.keepMs);
    const merged = task('merged', 15 * DAY);
    const abandoned = task('abandoned', 15 * DAY);
    // Past the workspace's keep time, not the logs'.
    const recent = task('merged', 2 * DAY);
    // Live, however long ago it last moved.
    const working = task('working', 30 * DAY);
    const now = Date.now();

    const ledger = await sweepLogs({ db, adapter, now });
    expect(existsSync(dirOf(merged))).toBe(false);
    expect(existsSync(dirOf(abandoned))).toBe(false);
    expect(existsSync(join(dirOf(recent), 'worker-a0-f0.ndjson'))).toBe(true);
    expect(existsSync(join(dirOf(working), 'worker-a0-f0.ndjson'))).toBe(true);
    expect(ledger).toEqual([
      { kind: 'janitor.logs_removed', payload: { task: merged, status: 'merged', removed: [{ host: 'local', path: dirOf(merged) }] } },
      { kind: 'janitor.logs_removed', payload: { task: abandoned, status: 'abandoned', removed: [{ host: 'local', path: dirOf(abandoned) }] } },
    ]);
    expect(logsRemovedAt(db, merged)).toBe(now);
    expect(logsRemovedAt(db, recent)).toBeUndefined();
    // Marked: the next tick has nothing to do, not even a `gone` to record.
    expect(await sweepLogs({ db, adapter, now })).toEqual([]);

    // 13 days on, the recent one is past its time too; the live one never.
    const later = now + 13 * DAY;
    expect((await sweepLogs({ db, adapter, now: later })).map((n) => n.payload!.task)).toEqual([recent]);
    expect(existsSync(dirOf(recent))).toBe(false);
    expect(existsSync(join(dirOf(working), 'worker-a0-f0.ndjson'))).toBe(true);

    // Retried and finished again: its new logs are kept their full time, then removed in turn.
    mkdirSync(dirOf(merged), { recursive: true });
    writeFileSync(join(dirOf(merged), 'worker-a1-f0.ndjson'), '{}\n');
    db.prepare(`UPDATE tasks SET status='merged', updated_at=? WHERE id=?`).run(later, merged);
    expect(logsRemovedAt(db, merged)).toBeUndefined();
    expect(await sweepLogs({ db, adapter, now: later + DAY })).toEqual([]);
    expect(existsSync(join(dirOf(merged), 'worker-a1-f0.ndjson'))).toBe(true);
    expect((await sweepLogs({ db, adapter, now: later + 15 * DAY })).map((n) => n.kind)).toEqual(['janitor.logs_removed']);
    expect(existsSync(dirOf(merged))).toBe(false);
  });

  it('never deletes through a link: a task\'s log directory that is a link out is refused (once); a link inside one is removed, not followed', async () => {
    const outside = join(p.dir, '..', `precious-${process.pid}`);
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'keep.txt'), 'precious');
    const linked = p.ids[next++];
    mkdirSync(adapter.paths.logs, { recursive: true });
    symlinkSync(outside, dirOf(linked));
    db.prepare(`UPDATE tasks SET host='local', status='merged', updated_at=? WHERE id=?`).run(Date.now() - 20 * DAY, linked);
    const inner = task('merged', 20 * DAY);
    symlinkSync(outside, join(dirOf(inner), 'link'));

    const ledger = await sweepLogs({ db, adapter, now: Date.now() });
    expect(ledger).toContainEqual({ kind: 'janitor.refused', payload: { task: linked, status: 'merged', host: 'local', refused: [dirOf(linked)], root: adapter.paths.logs } });
    expect(ledger).toContainEqual({ kind: 'janitor.logs_removed', payload: { task: inner, status: 'merged', removed: [{ host: 'local', path: dirOf(inner) }] } });
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('precious');
    expect(existsSync(dirOf(linked))).toBe(true);
    expect(existsSync(dirOf(inner))).toBe(false);
    // Said once, not on every tick: a human's to look at; refused is not gone, so the task is not marked removed.
    expect(await sweepLogs({ db, adapter, now: Date.now() })).toEqual([]);
    expect(logsRemovedAt(db, linked)).toBeUndefined();
    expect(logsRemovedAt(db, inner)).toBeDefined();
  });

  it('a backlog (the first sweep after an upgrade) is worked through a slice per tick', async () => {
    const ids = Array.from({ length: LOG_ROWS_PER_TICK + 5 }, () => task('merged', 30 * DAY));
    const first = await sweepLogs({ db, adapter, now: Date.now() });
    expect(first).toHaveLength(LOG_ROWS_PER_TICK);
    const second = await sweepLogs({ db, adapter, now: Date.now() });
    expect(second).toHaveLength(5);
    for (const id of ids) expect(existsSync(dirOf(id))).toBe(false);
  });
});
