import { enqueueActions, setup, type AnyActorRef } from 'xstate';
import { effectPlaceholders, type SeedOutput } from './effects.js';
import { killListener, type KillEvent } from './kill.js';
import { doneOutput, heldWhileKilled, POLL_DELAYS, scanLoop, type PollingInput } from './polling.js';

export type SeederInput = PollingInput;

export type SeederEvent = KillEvent | { type: 'seeder.poke' };

/** Ingests the roadmap and keeps the queue filled in tier order; asks the engine to spawn tasks. */
export const seederMachine = setup({
  types: { context: {} as SeederInput & { lastError: string | null }, input: {} as SeederInput, events: {} as SeederEvent },
  actors: { seedRoadmap: effectPlaceholders.seedRoadmap, killListener },
  delays: POLL_DELAYS,
  actions: {
    spawnTasks: enqueueActions(({ enqueue, event, system }) => {
      const engine = system.get('engine') as AnyActorRef | undefined;
      const { spawn, abandon } = doneOutput<SeedOutput>(event);
      if (engine && spawn.length) enqueue.sendTo(engine, { type: 'tasks.spawn', tasks: spawn });
      // Items closed at the roadmap source (an issue closed by a human): their live tasks stop.
      for (const a of abandon ?? []) {
        const task = system.get(`task:${a.taskId}`) as AnyActorRef | undefined;
        if (task) enqueue.sendTo(task, { type: 'task.abandon', reason: a.reason });
      }
    }),
  },
}).createMachine({
  id: 'seeder',
  context: ({ input }) => ({ ...input, lastError: null }),
  ...heldWhileKilled('seeding', scanLoop({ idle: 'idle', busy: 'seeding', poke: 'seeder.poke', src: 'seedRoadmap', input: {}, deliver: 'spawnTasks' })),
});
