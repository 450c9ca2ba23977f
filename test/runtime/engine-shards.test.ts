import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromPromise, type AnyActorRef } from 'xstate';
import { fromEffect } from '../../actors/effects/effect-logic.js';
import { EFFECT_NAMES, type PlanOutput } from '../../machines/effects.js';
import { systemClock } from '../../src/clock.js';
import { validateConfig } from '../../src/config/validate.js';
import type { Forge, HostTransport } from '../../src/ports.js';
import { liveTaskRefs, startEngine, type EngineHandle } from '../../src/runtime/engine.js';
import type { CommittedChange } from '../../src/store/persister.js';
import { openDb, type Db } from '../../src/store/db.js';
import { seedTaskRows } from '../../src/store/probes.js';

// Kept as SQL text (a .db is a build artefact): loaded into a fresh file, then opened by openDb, which migrates it.
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/v0.1-engine.sql');
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** Every effect parked but the planner, which returns a plan at once: tasks go to `waiting` and stay there. */
function effects() {
  const parked = fromEffect<never, unknown>(() => new Promise<never>(() => {}));
  const all = Object.fromEntries(EFFECT_NAMES.map((n) => [n, parked])) as Record<string, unknown>;
  all.plan = fromPromise<PlanOutput>(async () => ({ ok: true, plan: { files_touched: ['src/a.js'], tests: [], dependencies: [], risk: 'low', summary: 'p' }, costUsd: 0.01 }));
  return all as never;
}

function bed() {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-shards-'));
  const adapter = validateConfig(
    { name: 'shards', repo: { path: '.', mainBranch: 'main', forge: { kind: 'local' } }, checks: { command: ['true'] }, agents: { scripted: { script: 's.json' } }, engine: { maxLiveTasks: 50 } },
    { configPath: join(dir, 'oxi.config.json') },
  );
  mkdirSync(dirname(adapter.paths.db), { recursive: true });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, adapter };
}

function boot(b: ReturnType<typeof bed>, db: Db, shardSize?: number): EngineHandle {
  const handle = startEngine({
    adapter: b.adapter,
    db,
    clock: systemClock,
    effects: effects(),
    forge: { listOpenPrs: async () => [] } as unknown as Forge,
    hosts: new Map<string, HostTransport>(),
    agents: {} as never,
    notifier: { notify: async () => {} },
    shardSize,
  });
  return handle;
}

function waitCommit(h: EngineHandle, done: (seen: Map<string, string>) => boolean): Promise<number> {
  const seen = new Map<string, string>();
  let commits = 0;
  return new Promise((resolve) => {
    const off = h.onCommit((changes: CommittedChange[]) => {
      commits++;
      for (const c of changes) seen.set(c.actor, c.status);
      if (done(seen)) {
        off();
        resolve(commits);
      }
    });
  });
}

async function until(what: string, fn: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const rows = (db: Db, sql: string) => db.prepare(sql).all() as Array<Record<string, unknown>>;
const parentId = (ref: AnyActorRef) => (ref as unknown as { _parent: AnyActorRef })._parent.id;

describe('engine with task shards, persisted', () => {
  it('restores a database written before shards: same tasks in the same states, now under shards', async () => {
    const b = bed();
    const raw = new Database(b.adapter.paths.db);
    raw.exec(readFileSync(FIXTURE, 'utf8'));
    raw.close();
    const db = openDb(b.adapter.paths.db);
    cleanups.push(() => void db.close());
    const h = boot(b, db);
    cleanups.push(() => h.stop());
    expect(h.liveTasks().sort((x, y) => x.id.localeCompare(y.id))).toEqual(['T0-1', 'T0-2', 'T0-3', 'T0-4'].map((id) => ({ id, status: 'waiting' })));
    for (const ref of Object.values(liveTaskRefs(h.actor))) expect(parentId(ref)).toBe('tasks:0');
    const held = waitCommit(h, (seen) => ['T0-1', 'T0-2', 'T0-3', 'T0-4'].every((id) => seen.get(`task:${id}`) === 'held'));
    h.send('engineState', { type: 'engine.kill', reason: 'test', by: 'test' });
    await held;
    expect(rows(db, `SELECT id, status FROM tasks ORDER BY id`).map((r) => r.status)).toEqual(['held', 'held', 'held', 'held']);
    expect(rows(db, `SELECT actor FROM actor_snapshot WHERE actor LIKE 'tasks:%'`)).toEqual([]);
  });

  it('a kill reaches every task of every shard in one commit; after a restart each resumes from its own row', async () => {
    const b = bed();
    let db = openDb(b.adapter.paths.db);
    cleanups.push(() => void db.close());
    const ids = Array.from({ length: 7 }, (_, i) => `T1-${i + 1}`);
    seedTaskRows(db, ids.map((id, seq) => ({ id, repo: 'shards', tier: 1, title: id, description: '', status: 'planning', seq })), Date.now());
    let h = boot(b, db, 3);
    await until('every task waiting', () => h.liveTasks().length === 7 && h.liveTasks().every((t) => t.status === 'waiting'));
    expect(new Set(Object.values(liveTaskRefs(h.actor)).map(parentId))).toEqual(new Set(['tasks:0', 'tasks:1', 'tasks:2']));
    await until('every waiting row committed', () => rows(db, `SELECT id FROM tasks WHERE status='waiting'`).length === 7);
    const oneCommit = waitCommit(h, (seen) => ids.every((id) => seen.get(`task:${id}`) === 'held'));
    h.send('engineState', { type: 'engine.kill', reason: 'test', by: 'test' });
    expect(await oneCommit).toBe(1);
    await h.stop();
    db.close();

    db = openDb(b.adapter.paths.db);
    h = boot(b, db, 3);
    cleanups.push(() => h.stop());
    expect(h.liveTasks().map((t) => t.status)).toEqual(Array(7).fill('held'));
    const resumed = waitCommit(h, (seen) => ids.every((id) => seen.get(`task:${id}`) === 'waiting'));
    h.send('engineState', { type: 'engine.unkill', by: 'test' });
    await resumed;
    // Each transition of each task was recorded: its held and its resumed rows, none for the shards.
    for (const id of ids) expect(rows(db, `SELECT kind FROM event WHERE task='${id}' AND kind IN ('task.held','task.waiting') ORDER BY id`).map((r) => r.kind).slice(-2)).toEqual(['task.held', 'task.waiting']);
    expect(rows(db, `SELECT actor FROM actor_snapshot WHERE actor LIKE 'tasks:%'`)).toEqual([]);
  });
});
