/**
 * The janitor with rows it cannot finish: a task of a repository no longer configured is skipped (said once) and
 * never stops the sweeps of the other rows; a refused part with a host that is down writes its ledger rows once,
 * not on every tick; refused is not gone (the task's logs are not marked removed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepFinished } from '../../../actors/effects/janitor.js';
import { sweepLogs } from '../../../actors/effects/log-janitor.js';
import { makeReapScan } from '../../../actors/effects/background.js';
import type { EffectDeps } from '../../../actors/effects/deps.js';
import { appendEvent, listEvents } from '../../../src/store/ledger.js';
import { validateConfig } from '../../../src/config/validate.js';
import type { Adapter } from '../../../src/config/schema.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { logsRemovedAt } from '../../../src/store/task-logs.js';
import { getTask, ingestItems } from '../../../src/store/tasks.js';

const DAY = 86_400_000;
let dir: string;
let adapter: Adapter;
let db: Db;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'oxi-janitor-rows-'));
  for (const r of ['acme', 'tools']) execFileSync('git', ['init', '-q', '-b', 'main', join(dir, r)]);
  adapter = validateConfig({
    name: 'acme',
    repos: [{ name: 'acme', path: 'acme' }, { name: 'tools', path: 'tools' }],
    hosts: [
      { name: 'local', kind: 'local', maxWorkers: 1 },
      // Configured, but no transport reaches it this tick (down).
      { name: 'beta', kind: 'ssh', address: '127.0.0.1', user: 'oxi', maxWorkers: 1, worktreesRoot: '/srv/oxi', repos: { acme: { mainClone: '/srv/acme' } } },
    ],
  }, { configPath: join(dir, 'oxi.config.json') });
  db = openDb(join(dir, 'oxi.db'));
});
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A finished task of `repo` on `host`, ended `ago` ago, with a workspace and logs on the engine's machine. */
function task(repo: string, id: string, host: string, ago: number): { ws: string; logs: string } {
  ingestItems(db, [{ id, repo, tier: 0, title: id, description: '', seq: 0 }], Date.now());
  const ws = join(adapter.paths.worktreesRoot, 'acme-default', id.replace('/', '-'));
  mkdirSync(ws, { recursive: true });
  const logs = join(adapter.paths.logs, id);
  mkdirSync(logs, { recursive: true });
  writeFileSync(join(logs, 'worker-a0-f0.ndjson'), '{}\n');
  db.prepare(`UPDATE tasks SET host=?, status='merged', worktree=?, updated_at=? WHERE id=?`).run(host, ws, Date.now() - ago, id);
  return { ws, logs };
}

describe('janitor rows it cannot finish', () => {
  it('a task of a repository removed from `repos` is skipped, said once; the other rows are swept', async () => {
    const gone = task('old', 'old/T1-a', 'local', 20 * DAY);
    const kept = task('acme', 'acme/T1-b', 'local', 20 * DAY);
    const now = Date.now();
    const first = await sweepFinished({ db, adapter, now });
    expect(first.map((n) => [n.kind, n.payload!.task])).toEqual([['janitor.skipped', 'old/T1-a'], ['janitor.removed', 'acme/T1-b']]);
    expect(existsSync(kept.ws)).toBe(false);
    expect(existsSync(gone.ws)).toBe(true);
    expect(await sweepFinished({ db, adapter, now })).toEqual([]);
    const logs = await sweepLogs({ db, adapter, now });
    expect(logs.map((n) => [n.kind, n.payload!.task])).toEqual([['janitor.skipped', 'old/T1-a'], ['janitor.logs_removed', 'acme/T1-b']]);
    expect(existsSync(kept.logs)).toBe(false);
    expect(await sweepLogs({ db, adapter, now })).toEqual([]);
    expect(getTask(db, 'old/T1-a')).toMatchObject({ worktree: gone.ws });
  });

  it('a refused part and a host that is down: the refusal is written once, not on every tick; refused is not gone', async () => {
    const outside = join(dir, 'precious');
    mkdirSync(outside, { recursive: true });
    const id = 'acme/T1-c';
    const { logs } = task('acme', id, 'beta', 20 * DAY);
    rmSync(logs, { recursive: true });
    symlinkSync(outside, logs);
    const now = Date.now();
    const first = await sweepLogs({ db, adapter, now });
    expect(first).toEqual([{ kind: 'janitor.refused', payload: { task: id, status: 'merged', host: 'local', refused: [logs], root: join(adapter.paths.logs, 'acme') } }]);
    for (let tick = 0; tick < 3; tick++) expect(await sweepLogs({ db, adapter, now })).toEqual([]);
    expect(existsSync(outside)).toBe(true);
    expect(logsRemovedAt(db, id)).toBeUndefined();
  });

  it('on the reaper\'s tick, one sweep failing stops neither the others nor the next tick: said once, retention still runs', async () => {
    const id = 'acme/T1-d';
    task('acme', id, 'beta', 40 * DAY);
    db.prepare(`UPDATE tasks SET last_progress_at=? WHERE id=?`).run(Date.now() - 40 * DAY, id);
    appendEvent(db, { at: Date.now() - 35 * DAY, actor: `task:${id}`, kind: 'task.working', task: id });
    // The logs sweep reaches for beta's transport and fails (its own error, not the host's answer).
    const hosts = new Map<string, unknown>();
    hosts.get = () => {
      throw new Error('no transport table');
    };
    const tracked: Promise<unknown>[] = [];
    const deps = { db, adapter, clock: { now: () => Date.now() }, hosts, track: (p: Promise<unknown>) => tracked.push(p) } as unknown as EffectDeps;
    const scan = makeReapScan();
    const janitorRows = () => listEvents(db, { kindPrefix: 'janitor.' }).map((r) => [r.kind, JSON.parse(r.payload).sweep ?? null]);
    await scan(deps);
    await Promise.all(tracked);
    expect(janitorRows()).toContainEqual(['janitor.failed', 'logs']);
    expect(janitorRows().map(([kind]) => kind)).toContain('janitor.archived');
    expect(listEvents(db, { task: id })).toEqual([]);
    const count = janitorRows().length;
    await scan(deps);
    await Promise.all(tracked);
    expect(tracked).toHaveLength(2);
    expect(janitorRows()).toHaveLength(count);
  });
});
