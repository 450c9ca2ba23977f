import { enqueueActions, setup, type AnyActorRef } from 'xstate';
import { effectPlaceholders, type ReapOutput } from './effects.js';
import { killListener, type KillEvent } from './kill.js';
import { doneOutput, heldWhileKilled, POLL_DELAYS, scanLoop, type PollingInput } from './polling.js';

export type ReaperInput = PollingInput;

export type ReaperEvent = KillEvent | { type: 'reaper.scan' };

/**
 * Finds stalled workers (staleness from last_progress_at only) and reaps the dead ones.
 * The scan effect decides liveness by probing the worker's process on its host; a live
 * worker is never reaped, nor a task that owns an open PR.
 */
export const reaperMachine = setup({
  types: { context: {} as ReaperInput, input: {} as ReaperInput, events: {} as ReaperEvent },
  actors: { reapScan: effectPlaceholders.reapScan, killListener },
  delays: POLL_DELAYS,
  actions: {
    reapTasks: enqueueActions(({ enqueue, event, system }) => {
      for (const r of doneOutput<ReapOutput>(event).reap) {
        const ref = system.get(`task:${r.taskId}`) as AnyActorRef | undefined;
        if (ref) enqueue.sendTo(ref, { type: 'task.reap', reason: r.reason });
      }
    }),
  },
}).createMachine({
  id: 'reaper',
  context: ({ input }) => input,
  ...heldWhileKilled('idle', scanLoop({ idle: 'idle', busy: 'scanning', poke: 'reaper.scan', src: 'reapScan', input: {}, deliver: 'reapTasks' })),
});
