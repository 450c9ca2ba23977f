/** A started engine machine with every effect parked, for the supervision and shard tests. */
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

const never = Object.fromEntries(EFFECT_NAMES.map((n) => [n, fromPromise(() => new Promise(() => {}))])) as never;
/** A child with a bug: any `crash` event throws inside an action. */
export const crashy = (id: string) =>
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

