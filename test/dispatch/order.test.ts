/**
 * Dispatch order when slots are scarce: one slot, items of mixed tiers in a real SQLite store. Slots go
 * strictly by tier, then roadmap order — whoever asked first does not matter, and a tier-1 item does not
 * take the slot while a tier-0 item is still being planned.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { dispatchOrder } from '../../src/dispatch/order.js';
import { DispatchPool } from '../../src/dispatch/pool.js';
import { openDb, type Db } from '../../src/store/db.js';
import { ingestItems } from '../../src/store/tasks.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function bed(): { db: Db; pool: DispatchPool; setStatus: (id: string, status: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-order-'));
  const db = openDb(join(dir, 'oxi.db'));
  cleanups.push(() => (db.close(), rmSync(dir, { recursive: true, force: true })));
  // Roadmap order (seq): a tier-1 item listed first, then the tier-0 items.
  ingestItems(db, [
    { id: 'T1-1', repo: 'p', tier: 1, title: 'late tier', description: '', seq: 0 },
    { id: 'T0-2', repo: 'p', tier: 0, title: 'b', description: '', seq: 1 },
    { id: 'T0-1', repo: 'p', tier: 0, title: 'a', description: '', seq: 2 },
  ], 0);
  const clock = new ManualClock(0);
  const pool = new DispatchPool({ clock, planTierMax: 1, overlapDeferMs: 1000, openPrFiles: async () => [], budget: () => ({ exceeded: false, until: 0 }), ...dispatchOrder(db) });
  pool.setCapacity('local', 1);
  const setStatus = (id: string, status: string) => {
    db.prepare('UPDATE tasks SET status = ? WHERE id = ?').run(status, id);
    pool.poke();
  };
  return { db, pool, setStatus };
}

describe('dispatch order with one slot', () => {
  it('waiters get the slot by tier, then roadmap order, whatever order they asked in', async () => {
    const { pool } = bed();
    const order: string[] = [];
    const claim = (id: string) => pool.claim(id, [id]).then((out) => (out.granted ? order.push(id) : undefined));
    // A slot is busy; the three queue up in the worst order: tier 1 first.
    await pool.claim('busy', ['x']);
    const claims = [claim('T1-1'), claim('T0-1'), claim('T0-2')];
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    for (const next of ['busy', 'T0-2', 'T0-1']) {
      pool.release(next);
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(claims);
    expect(order).toEqual(['T0-2', 'T0-1', 'T1-1']);
  });

  it('a tier-1 item planned first does not take the only slot while a tier-0 item is still planning', async () => {
    const { pool, setStatus } = bed();
    setStatus('T0-2', 'planning');
    setStatus('T1-1', 'waiting');
    let granted: string | undefined;
    const tier1 = pool.claim('T1-1', ['a']).then((o) => (granted ??= o.granted ? 'T1-1' : undefined));
    await new Promise((r) => setImmediate(r));
    expect(granted).toBeUndefined();
    expect(pool.hosts()).toEqual([{ name: 'local', capacity: 1, inUse: 0, blocked: false }]);
    // The tier-0 plan is done: it asks and gets the slot at once, ahead of the tier-1 item that asked first.
    setStatus('T0-2', 'waiting');
    expect(await pool.claim('T0-2', ['b'])).toEqual({ granted: true, host: 'local' });
    expect(granted).toBeUndefined();
    setStatus('T0-2', 'running');
    pool.releaseSlot('T0-2');
    await tier1;
    expect(granted).toBe('T1-1');
  });

  it('a tier-0 item that leaves planning without a plan (e.g. to a human) releases the held slot', async () => {
    const { pool, setStatus } = bed();
    setStatus('T0-1', 'planning');
    const tier1 = pool.claim('T1-1', ['a']);
    await new Promise((r) => setImmediate(r));
    setStatus('T0-1', 'awaiting_human');
    expect(await tier1).toEqual({ granted: true, host: 'local' });
  });
});
