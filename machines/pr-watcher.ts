import { assign, enqueueActions, setup, type AnyActorRef } from 'xstate';
import { effectPlaceholders, type PrScanOutput } from './effects.js';
import { killListener, type KillEvent } from './kill.js';
import { doneOutput, POLL_DELAYS, scanLoop, type PollingInput } from './polling.js';

export type PrWatcherInput = PollingInput;

export type PrWatcherEvent = KillEvent | { type: 'prWatcher.scan' };

/**
 * Reconciles PR state from the forge into the task actors. The one actor that keeps
 * working while the engine is killed — read-only: it observes and records, it tells no task.
 */
export const prWatcherMachine = setup({
  types: { context: {} as PrWatcherInput & { readOnly: boolean }, input: {} as PrWatcherInput, events: {} as PrWatcherEvent },
  actors: { prScan: effectPlaceholders.prScan, killListener },
  delays: POLL_DELAYS,
  actions: {
    tellTasks: enqueueActions(({ enqueue, event, context, system }) => {
      if (context.readOnly) return;
      for (const e of doneOutput<PrScanOutput>(event).events) {
        const ref = system.get(`task:${e.taskId}`) as AnyActorRef | undefined;
        if (!ref) continue;
        const ledger = e.ledger ?? (e.type === 'pr.merged' ? [{ kind: 'auto_merge.noop_already_merged', payload: { detail: e.detail ?? null } }] : undefined);
        enqueue.sendTo(ref, { type: e.type, detail: e.detail, ledger });
      }
    }),
  },
}).createMachine({
  id: 'prWatcher',
  context: ({ input }) => ({ ...input, readOnly: false }),
  invoke: { id: 'kill', src: 'killListener' },
  on: {
    'engine.killed': { actions: assign({ readOnly: true }) },
    'engine.resumed': { actions: assign({ readOnly: false }) },
  },
  initial: 'idle',
  states: scanLoop({ idle: 'idle', busy: 'scanning', poke: 'prWatcher.scan', src: 'prScan', input: ({ context }: { context: { readOnly: boolean } }) => ({ readOnly: context.readOnly }), deliver: 'tellTasks' }),
});
