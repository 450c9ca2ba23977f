import { enqueueActions, setup, type AnyActorRef } from 'xstate';
import { effectPlaceholders } from './effects.js';
import { killListener, type KillEvent } from './kill.js';

export interface SeederInput {
  intervalMs: number;
}

export type SeederEvent = KillEvent | { type: 'seeder.poke' };

/** Ingests the roadmap and keeps the queue filled in tier order; asks the engine to spawn tasks. */
export const seederMachine = setup({
  types: { context: {} as SeederInput & { lastError: string | null }, input: {} as SeederInput, events: {} as SeederEvent },
  actors: { seedRoadmap: effectPlaceholders.seedRoadmap, killListener },
  delays: { interval: ({ context }) => context.intervalMs },
}).createMachine({
  id: 'seeder',
  context: ({ input }) => ({ ...input, lastError: null }),
  invoke: { id: 'kill', src: 'killListener' },
  initial: 'live',
  states: {
    live: {
      initial: 'seeding',
      on: { 'engine.killed': 'held' },
      states: {
        seeding: {
          invoke: {
            id: 'seedRoadmap',
            src: 'seedRoadmap',
            input: {},
            onDone: {
              target: 'idle',
              actions: enqueueActions(({ enqueue, event, system }) => {
                const engine = system.get('engine') as AnyActorRef | undefined;
                if (engine && event.output.spawn.length) enqueue.sendTo(engine, { type: 'tasks.spawn', tasks: event.output.spawn });
                for (const a of event.output.abandon ?? []) {
                  const task = system.get(`task:${a.taskId}`) as AnyActorRef | undefined;
                  if (task) enqueue.sendTo(task, { type: 'task.abandon', reason: a.reason });
                }
              }),
            },
            onError: { target: 'idle', actions: ({ event }) => void event },
          },
        },
        idle: { after: { interval: 'seeding' }, on: { 'seeder.poke': 'seeding' } },
      },
    },
    // Resuming always seeds afresh: nothing of a seeding pass is worth resuming half-way.
    held: { on: { 'engine.resumed': 'live' } },
  },
});
