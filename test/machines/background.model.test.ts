import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import type { AnyStateMachine } from 'xstate';
import { hostMachine } from '../../machines/host.js';
import { seederMachine } from '../../machines/seeder.js';
import { reaperMachine } from '../../machines/reaper.js';
import { prWatcherMachine } from '../../machines/pr-watcher.js';
import { deadmanMachine } from '../../machines/deadman.js';
import { oauthWatchMachine } from '../../machines/oauth-watch.js';
import { engineStateMachine } from '../../machines/engine-state.js';
import { promoterMachine } from '../../machines/promoter.js';
import { done, recordingActor } from '../helpers/machine-events.js';

const KILL = { type: 'engine.killed', reason: 'test', hard: false };
const RESUME = { type: 'engine.resumed' };
const interval = 1000;

/** Moves simulated time, then lets settled effects deliver their done events. */
async function advance(clock: { advance(ms: number): void }, ms: number) {
  clock.advance(ms);
  await new Promise((r) => setImmediate(r));
}

/** Each background concern with the outputs its effects settle with, and its own events. */
const cases: Array<{ name: string; machine: AnyStateMachine; input: unknown; outputs: Record<string, unknown>; events: unknown[]; graphEvents?: unknown[] }> = [
  { name: 'host', machine: hostMachine, input: { name: 'local', probeIntervalMs: interval, backoffBaseMs: interval, backoffMaxMs: 4 * interval }, outputs: { probeHost: { capacity: 2, inUse: 0 } }, events: [done('probeHost', { capacity: 2, inUse: 0 }), done('probeHost', { capacity: 1, inUse: 1 }), { type: 'host.leases', inUse: 2 }, { type: 'host.leases', inUse: 0 }, { type: 'host.probe' }, { type: 'host.drain' }, { type: 'host.undrain' }] },
  { name: 'seeder', machine: seederMachine, input: { intervalMs: interval }, outputs: { seedRoadmap: { spawn: [] } }, events: [done('seedRoadmap', { spawn: [] }), { type: 'seeder.poke' }] },
  { name: 'reaper', machine: reaperMachine, input: { intervalMs: interval }, outputs: { reapScan: { reap: [] } }, events: [done('reapScan', { reap: [] }), { type: 'reaper.scan' }] },
  { name: 'deadman', machine: deadmanMachine, input: { intervalMs: interval }, outputs: { deadmanCheck: { silent: true, inFlight: 1, quietMs: 1e6 }, notify: undefined }, events: [done('deadmanCheck', { silent: true, inFlight: 1, quietMs: 9e5 }), done('deadmanCheck', { silent: false, inFlight: 0, quietMs: 0 }), done('notify', undefined)] },
  { name: 'oauthWatch', machine: oauthWatchMachine, input: { intervalMs: interval }, outputs: { readCredentials: { state: 'expiring' }, notify: undefined }, events: [done('readCredentials', { state: 'ok' }), done('readCredentials', { state: 'expiring' }), done('readCredentials', { state: 'expired' })] },
  {
    name: 'promoter',
    machine: promoterMachine,
    input: { name: 'default', schedule: 'after-merge', enabled: true, intervalMs: interval },
    outputs: { promoteHistory: { lastRunAt: 0, mergeCursor: 0, latestMerge: 0 }, notify: undefined },
    events: [
      done('promoteHistory', { lastRunAt: 0, mergeCursor: 0, latestMerge: 0 }),
      done('promoteHistory', { lastRunAt: 0, mergeCursor: 0, latestMerge: 2 }),
      done('promote', { ok: true, exitCode: 0, durationMs: 1, summary: 'exit 0', outputTail: '' }),
      done('promote', { ok: false, exitCode: 1, durationMs: 1, summary: 'exit 1', outputTail: 'x' }),
      done('notify', undefined),
      { type: 'promote.now' },
    ],
  },
];

describe('background machines honour the killswitch', () => {
  for (const c of cases) {
    it(`${c.name}: no state reachable after engine.killed (before engine.resumed) runs an effect`, () => {
      const paths = getShortestPaths(c.machine, { input: c.input, events: [...(c.graphEvents ?? c.events), KILL, RESUME] as never, serializeState: ((s: { value: unknown }) => JSON.stringify(s.value)) as never });
      let held = 0;
      for (const p of paths) {
        if (p.state.value !== 'held') continue;
        held++;
        expect(Object.keys(p.state.children)).toEqual(['kill']);
      }
      expect(held).toBeGreaterThan(0);
    });

    it(`${c.name}: running for real, killed at every instant, starts nothing until resumed`, async () => {
      for (let killAfter = 0; killAfter < 6; killAfter++) {
        const run = recordingActor(c.machine, c.input, {}, c.outputs);
        for (let i = 0; i < killAfter; i++) await advance(run.clock, interval);
        run.send(KILL);
        const atKill = run.starts.length;
        for (let i = 0; i < 20; i++) await advance(run.clock, interval);
        expect(run.starts.slice(atKill), `${c.name} killed after ${killAfter} intervals`).toEqual([]);
        expect(run.actor.getSnapshot().value).toBe('held');
        run.send(RESUME);
        for (let i = 0; i < 5; i++) await advance(run.clock, interval);
        expect(run.starts.length).toBeGreaterThan(atKill); // and it does resume
        run.actor.stop();
      }
    });
  }

  it('prWatcher keeps observing while killed, read-only, and tells no task', async () => {
    const run = recordingActor(prWatcherMachine, { intervalMs: interval }, {}, { prScan: { events: [{ taskId: 'T1', type: 'pr.merged' }] } });
    await advance(run.clock, interval);
    expect(run.starts.at(-1)?.input).toEqual({ readOnly: false });
    run.send(KILL);
    const before = run.starts.length;
    for (let i = 0; i < 3; i++) await advance(run.clock, interval);
    const during = run.starts.slice(before);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((s) => (s.input as { readOnly: boolean }).readOnly)).toBe(true);
    run.send(RESUME);
    await advance(run.clock, interval);
    expect(run.starts.at(-1)?.input).toEqual({ readOnly: false });
  });

  it('engineState: kill is one transition (a second kill is no transition), unkill resumes, hard upgrades in place', () => {
    const run = recordingActor(engineStateMachine, { killed: false });
    const emitted: string[] = [];
    run.actor.on('*', (e: { type: string }) => emitted.push(e.type));
    run.send({ type: 'engine.kill', reason: 'r1' });
    run.send({ type: 'engine.kill', reason: 'r2' });
    expect(run.actor.getSnapshot().value).toBe('killed');
    expect(run.actor.getSnapshot().context.reason).toBe('r1');
    run.send({ type: 'engine.kill', reason: 'r3', hard: true });
    expect(run.actor.getSnapshot().context.hard).toBe(true);
    run.send({ type: 'engine.unkill' });
    expect(run.actor.getSnapshot().value).toBe('running');
    expect(emitted).toEqual(['engine.killed', 'engine.killed', 'engine.resumed']);
    const restarted = recordingActor(engineStateMachine, { killed: true, reason: 'persisted', at: 1 });
    expect(restarted.actor.getSnapshot().value).toBe('killed');
  });
});
