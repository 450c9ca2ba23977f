import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { EFFECT_NAMES } from '../../machines/effects.js';
import { systemClock } from '../../src/clock.js';
import { validateConfig } from '../../src/config/validate.js';
import type { Forge } from '../../src/ports.js';
import { startEngine } from '../../src/runtime/engine.js';
import type { CommittedChange } from '../../src/store/persister.js';
import { openDb } from '../../src/store/db.js';
import { ROOT } from '../helpers/project.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-busy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A second writer in another process: takes the write lock, holds it `ms`, then commits. */
function holdWriteLock(db: string, ms: number): Promise<{ released: Promise<void> }> {
  const code = `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(db)}); db.exec('BEGIN IMMEDIATE'); console.log('locked'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${ms});`;
  const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const released = new Promise<void>((r) => child.on('exit', () => r()));
  return new Promise((resolve) => child.stdout!.once('data', () => resolve({ released })));
}

function engine(name: string) {
  const adapter = validateConfig({ name, checks: { command: ['true'] }, agents: { scripted: { script: 's.json' } } }, { configPath: join(dir, name, 'oxi.config.json') });
  mkdirSync(adapter.paths.stateDir, { recursive: true });
  const db = openDb(adapter.paths.db);
  const parked = fromPromise(() => new Promise<never>(() => {}));
  const fatal: unknown[] = [];
  const handle = startEngine({
    adapter,
    db,
    clock: systemClock,
    effects: Object.fromEntries(EFFECT_NAMES.map((n) => [n, parked])) as never,
    forge: { listOpenPrs: async () => [] } as unknown as Forge,
    hosts: new Map(),
    agents: {} as never,
    notifier: { notify: async () => {} },
    onFatal: (e) => fatal.push(e),
  });
  const acked: CommittedChange[] = [];
  handle.onCommit((c) => acked.push(...c));
  return { adapter, db, handle, fatal, acked };
}

describe('SQLite busy from a second writer', () => {
  it('a lock held under the busy timeout delays the transition, which then commits: nothing lost, nothing fatal', async () => {
    const e = engine('short');
    e.handle.persister.flush(); // the boot transitions, committed before the lock is taken
    const { released } = await holdWriteLock(e.adapter.paths.db, 1500);
    e.handle.send('engineState', { type: 'engine.kill', reason: 'busy test', by: 'test' });
    // The flush the persister would run on the next microtask, run now: it blocks on the lock, then commits.
    e.handle.persister.flush();
    await released;
    expect(e.fatal).toEqual([]);
    expect(e.acked.some((c) => c.actor === 'engineState' && c.status === 'killed')).toBe(true);
    expect(e.db.prepare(`SELECT COUNT(*) AS n FROM event WHERE kind='engineState.killed'`).get()).toEqual({ n: 1 });
    await e.handle.stop();
    e.db.close();
  });

  it('a lock held past the busy timeout is fatal, and nothing unwritten is acknowledged', { timeout: 30_000 }, async () => {
    const e = engine('long');
    e.handle.persister.flush(); // the boot transitions, committed before the lock is taken
    const before = e.acked.length;
    const { released } = await holdWriteLock(e.adapter.paths.db, 7000);
    e.handle.send('engineState', { type: 'engine.kill', reason: 'busy test', by: 'test' });
    e.handle.persister.flush(); // blocks for the whole busy timeout, then fails
    await released;
    expect(e.fatal.length).toBe(1);
    expect(String(e.fatal[0])).toMatch(/busy|locked/i);
    // The kill was never written, so it was never acknowledged: the daemon stops and a restart re-reads the truth.
    expect(e.acked.slice(before).filter((c) => c.actor === 'engineState')).toEqual([]);
    expect(e.db.prepare(`SELECT COUNT(*) AS n FROM event WHERE kind='engineState.killed'`).get()).toEqual({ n: 0 });
    await e.handle.stop();
    e.db.close();
  });
});
