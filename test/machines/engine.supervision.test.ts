import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, setup, type AnyActorRef } from 'xstate';
import { engineMachine, withTaskLogic, type EngineInput } from '../../machines/engine.js';
import { EFFECT_NAMES } from '../../machines/effects.js';
import { hostMachine } from '../../machines/host.js';
import { taskMachine } from '../../machines/task.js';
import { seederMachine } from '../../machines/seeder.js';
import { reaperMachine } from '../../machines/reaper.js';
import { prWatcherMachine } from '../../machines/pr-watcher.js';
import { deadmanMachine } from '../../machines/deadman.js';
import { oauthWatchMachine } from '../../machines/oauth-watch.js';
import { restorable } from '../../machines/restorable.js';
import { ManualClock } from '../../src/clock.js';
import { liveTaskRefs } from '../../src/runtime/engine.js';

const never = Object.fromEntries(EFFECT_NAMES.map((n) => [n, fromPromise(() => new Promise(() => {}))])) as never;
/** A child with a bug: any `crash` event throws inside an action. */
const crashy = (id: string) =>
  setup({}).createMachine({ id, on: { crash: { actions: () => { throw new Error(`${id} bug`); } } } });

const baseInput: EngineInput = {
  engineState: { killed: false },
  hosts: [{ name: 'local', probeIntervalMs: 1000, backoffBaseMs: 1000, backoffMaxMs: 1000 }],
  intervals: { seedMs: 1000, reaperMs: 1000, prWatchMs: 1000, deadmanMs: 1000, oauthMs: 1000 },
  taskPolicy: { maxAttempts: 3, maxFixAttempts: 1, backoffBaseMs: 10, backoffMaxMs: 100, autoMerge: true },
  tasks: [{ id: 'T1', title: 't', description: '', tier: 0, attempt: 0 }],
  restartIntensity: { maxRestarts: 3, periodMs: 10_000 },
};

export function start(overrides: Record<string, unknown>, over: Partial<EngineInput> = {}) {
  const clock = new ManualClock();
  const { task, ...rest } = overrides;
  const machine = withTaskLogic(engineMachine, task ?? restorable(taskMachine.provide({ actors: never })), {
    host: hostMachine.provide({ actors: never }),
    seeder: seederMachine.provide({ actors: never }),
    reaper: reaperMachine.provide({ actors: never }),
    prWatcher: prWatcherMachine.provide({ actors: never }),
    deadman: deadmanMachine.provide({ actors: never }),
    oauthWatch: oauthWatchMachine.provide({ actors: never }),
    ...rest,
  });
  const input = { ...baseInput, ...over };
  const errors: unknown[] = [];
  const actor = createActor(machine, { input, clock: clock as never, systemId: 'engine' });
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return { actor, clock, errors, get: (id: string) => actor.system.get(id) as AnyActorRef | undefined };
}

describe('engine supervision (contract 3.4)', () => {
  it('restarts a failing permanent child one-for-one, leaving its siblings alone', () => {
    const e = start({ host: crashy('host') });
    const task = e.get('task:T1');
    const first = e.get('host:local');
    first!.send({ type: 'crash' });
    const second = e.get('host:local');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(second!.getSnapshot().status).toBe('active');
    expect(e.get('task:T1')).toBe(task); // siblings untouched
    expect(e.actor.getSnapshot().value).toBe('running');
    expect(e.errors).toEqual([]);
  });

  it('past the restart intensity it halts cleanly: the killswitch is set with the reason, nothing crashes', () => {
    const e = start({ host: crashy('host') });
    for (let i = 0; i < 3; i++) e.get('host:local')!.send({ type: 'crash' });
    expect(e.actor.getSnapshot().value).toBe('running');
    e.get('host:local')!.send({ type: 'crash' });
    expect(e.actor.getSnapshot().value).toBe('halted');
    const engineState = e.get('engineState')!.getSnapshot();
    expect(engineState.value).toBe('killed');
    expect(engineState.context.reason).toMatch(/^supervisor: host:local failed past the restart intensity \(3 in 10000 ms\): Error: host bug/);
    expect(e.get('task:T1')!.getSnapshot().value).toBe('held'); // every actor honours the halt
    expect(e.errors).toEqual([]);
  });

  it('restarts in a fresh period are allowed again (intensity is a rate, not a lifetime count)', () => {
    const e = start({ host: crashy('host') });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) e.get('host:local')!.send({ type: 'crash' });
      e.clock.advance(10_001);
    }
    expect(e.actor.getSnapshot().value).toBe('running');
  });

  it('a task with a bug is restarted (transient) from its boot input, under its own id', () => {
    const e = start({ task: restorable(crashy('task') as never) });
    const first = e.get('task:T1');
    first!.send({ type: 'crash' });
    const second = e.get('task:T1');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(second!.getSnapshot().status).toBe('active');
  });

  it('never spawns two actors for one T-id, and removes a task that reached a final state', () => {
    const finishing = setup({}).createMachine({ id: 'task', initial: 'on', states: { on: { on: { finish: 'done' } }, done: { type: 'final' } } });
    const e = start({ task: restorable(finishing as never) });
    const boot = (id: string) => ({ id, title: id, description: '', tier: 0, attempt: 0 });
    e.actor.send({ type: 'tasks.spawn', tasks: [boot('T1'), boot('T2'), boot('T2')] });
    const live = () => Object.keys(liveTaskRefs(e.actor)).sort();
    expect(live()).toEqual(['task:T1', 'task:T2']);
    e.get('task:T2')!.send({ type: 'finish' });
    expect(live()).toEqual(['task:T1']);
    expect(Object.values(e.actor.getSnapshot().context.shards)).toEqual([1]);
    e.actor.send({ type: 'tasks.spawn', tasks: [boot('T1')] });
    expect(live()).toEqual(['task:T1']);
  });
});
