import { describe, expect, it } from 'vitest';
import type { EffectDeps } from '../../actors/effects/deps.js';
import { probeHost } from '../../actors/effects/background.js';
import { ManualClock } from '../../src/clock.js';
import type { HostTransport } from '../../src/ports.js';
import { DispatchPool } from '../../src/dispatch/pool.js';

/** A host that answers its probe, then drops off the network, then comes back. */
function flakyHost() {
  let down = false;
  const host = {
    name: 'box',
    probe: async () => {
      if (down) throw new Error('connect ETIMEDOUT');
      return { cpus: 8, load5: 0, freeMemMb: 16_000, totalMemMb: 32_000 };
    },
  } as unknown as HostTransport;
  return { host, setDown: (d: boolean) => (down = d) };
}

describe('host unreachable mid-run', () => {
  it('closes the host to new dispatches while its probe fails, and reopens it when the probe succeeds', async () => {
    const clock = new ManualClock();
    const pool = new DispatchPool({ clock, planTierMax: 4, overlapDeferMs: 1000, openPrFiles: async () => [], budget: () => ({ exceeded: false, until: 0 }) });
    const { host, setDown } = flakyHost();
    const deps = { pool, hosts: new Map([['box', host]]), adapter: { hosts: [{ name: 'box', maxWorkers: 3 }], planTier: { maxWorkers: 4 } } } as unknown as EffectDeps;
    await probeHost(deps, { host: 'box' });
    expect(pool.hosts()).toEqual([{ name: 'box', capacity: 3, inUse: 0, blocked: false }]);
    setDown(true);
    await expect(probeHost(deps, { host: 'box' })).rejects.toThrow(/ETIMEDOUT/);
    expect(pool.hosts()[0].capacity).toBe(0);
    // A task asking for a slot now waits instead of being sent to the dead host.
    const claim = pool.claim('T0-1', ['a.js']);
    let settled = false;
    void claim.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    setDown(false);
    await probeHost(deps, { host: 'box' });
    expect(await claim).toMatchObject({ granted: true, host: 'box' });
  });
});
