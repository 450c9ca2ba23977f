import { enqueueActions, setup, type AnyActorRef } from 'xstate';
import { effectPlaceholders } from './effects.js';
import { killListener, type KillEvent } from './kill.js';

export interface ReaperInput {
  intervalMs: number;
}

export type ReaperEvent = KillEvent | { type: 'reaper.scan' };

/**
 * Finds stalled workers (staleness from last_progress_at only) and reaps the dead ones.
 * The scan effect decides liveness by probing the worker's process on its host; a live
 * worker is never reaped, nor a task that owns an open PR.
 */
export const reaperMachine = setup({
  types: { context: {} as ReaperInput, input: {} as ReaperInput, events: {} as ReaperEvent },
  actors: { reapScan: effectPlaceholders.reapScan, killListener },
  delays: { interval: ({ context }) => context.intervalMs },
}).createMachine({
  id: 'reaper',
  context: ({ input }) => input,
  invoke: { id: 'kill', src: 'killListener' },
  initial: 'live',
  states: {
    live: {
      initial: 'idle',
      on: { 'engine.killed': 'held' },
      states: {
        idle: { after: { interval: 'scanning' }, on: { 'reaper.scan': 'scanning' } },
        scanning: {
          invoke: {
            id: 'reapScan',
            src: 'reapScan',
            input: {},
            onDone: {
              target: 'idle',
              actions: enqueueActions(({ enqueue, event, system }) => {
                for (const r of event.output.reap) {
                  const ref = system.get(`task:${r.taskId}`) as AnyActorRef | undefined;
                  if (ref) enqueue.sendTo(ref, { type: 'task.reap', reason: r.reason });
                }
              }),
            },
            onError: 'idle',
          },
        },
      },
    },
    held: { on: { 'engine.resumed': 'live' } },
  },
});
