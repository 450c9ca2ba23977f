/**
 * The environment gate on its own: a real SQLite file, a manual clock, a probe that fails until told.
 * The database may sit on the disk that filled up, so the gate's own rows can fail to be written:
 * it must close and probe all the same, never stay half-closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { dispatchPausedReason, EnvironmentGate } from '../../src/gates/environment-gate.js';
import { openDb, type Db } from '../../src/store/db.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

function bed() {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-gate-'));
  const db = openDb(join(dir, 'oxi.db'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => db.close());
  const clock = new ManualClock();
  const changes: Array<string | null> = [];
  let diskFull = true;
  let probes = 0;
  const gate = new EnvironmentGate({
    db,
    clock,
    logsDir: join(dir, 'logs'),
    probeIntervalMs: 1000,
    onChange: (reason) => changes.push(reason),
    probe: () => {
      probes++;
      if (diskFull) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  });
  cleanups.push(() => gate.stop());
  return { db, clock, gate, changes, probes: () => probes, spaceBack: () => (diskFull = false) };
}

const enospc = Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });

/** Every insert into the ledger fails, as on a full disk. */
function ledgerFull(db: Db): void {
  db.exec(`CREATE TRIGGER full BEFORE INSERT ON event BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END`);
}

describe('EnvironmentGate', () => {
  it('closes once, probes every interval while the disk is full, and reopens on the first probe that writes', () => {
    const b = bed();
    b.gate.block(enospc);
    b.gate.block(enospc);
    expect(b.changes).toEqual([expect.stringMatching(/^ENOSPC: /)]);
    expect(dispatchPausedReason(b.db)).toMatch(/^ENOSPC: /);
    b.clock.advance(3500);
    expect(b.probes()).toBe(3);
    expect(b.changes).toHaveLength(1);
    b.spaceBack();
    b.clock.advance(1000);
    expect(b.changes).toEqual([expect.stringMatching(/^ENOSPC: /), null]);
    expect(dispatchPausedReason(b.db)).toBeNull();
  });

  it('closes and probes even when its ledger row cannot be written, and reopens when space is back', () => {
    const b = bed();
    ledgerFull(b.db);
    expect(() => b.gate.block(enospc)).not.toThrow();
    expect(b.changes).toEqual([expect.stringMatching(/^ENOSPC: /)]);
    b.clock.advance(2000);
    expect(b.probes()).toBe(2);
    b.spaceBack();
    b.clock.advance(1000);
    expect(b.changes.at(-1)).toBeNull();
    // A later failure closes it again: it was never stuck half-closed.
    b.gate.block(enospc);
    expect(b.changes).toHaveLength(3);
  });

  it('a restart while closed stays closed and probes (the latch is the ledger)', () => {
    const b = bed();
    b.gate.block(enospc);
    b.gate.stop();
    const changes: Array<string | null> = [];
    let probes = 0;
    const again = new EnvironmentGate({ db: b.db, clock: b.clock, logsDir: 'unused', probeIntervalMs: 1000, onChange: (r) => changes.push(r), probe: () => void probes++ });
    cleanups.push(() => again.stop());
    expect(changes).toEqual([expect.stringMatching(/^ENOSPC: /)]);
    b.clock.advance(0);
    expect(probes).toBe(1);
    expect(changes.at(-1)).toBeNull();
  });
});
