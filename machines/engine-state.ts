import { assign, emit, setup } from 'xstate';
import { nowOf } from './time.js';

export interface EngineStateContext {
  reason: string | null;
  by: string | null;
  at: number | null;
  hard: boolean;
}

export interface EngineStateInput {
  killed: boolean;
  reason?: string | null;
  by?: string | null;
  at?: number | null;
  hard?: boolean;
}

export type EngineStateEvent =
  | { type: 'engine.kill'; reason: string; by?: string; hard?: boolean }
  | { type: 'engine.unkill'; by?: string };

/**
 * Owns the killswitch. Broadcasts `engine.killed` / `engine.resumed` (emitted events,
 * picked up by every machine's killListener). A kill while killed is not a transition,
 * so it is logged once; a `--hard` kill while soft-killed upgrades in place.
 */
export const engineStateMachine = setup({
  types: {
    context: {} as EngineStateContext,
    input: {} as EngineStateInput,
    events: {} as EngineStateEvent,
    emitted: {} as { type: 'engine.killed'; reason: string; hard: boolean } | { type: 'engine.resumed' },
  },
  guards: {
    startKilled: ({ context }) => context.at !== null && context.reason !== null,
    upgradesToHard: ({ context, event }) => event.type === 'engine.kill' && !!event.hard && !context.hard,
  },
}).createMachine({
  id: 'engineState',
  context: ({ input }) =>
    input.killed
      ? { reason: input.reason ?? 'killed', by: input.by ?? null, at: input.at ?? 0, hard: !!input.hard }
      : { reason: null, by: null, at: null, hard: false },
  initial: 'boot',
  states: {
    boot: { always: [{ guard: 'startKilled', target: 'killed' }, { target: 'running' }] },
    running: {
      on: {
        'engine.kill': {
          target: 'killed',
          actions: [
            assign(({ event, system }) => ({
              reason: event.reason,
              by: event.by ?? null,
              hard: !!event.hard,
              at: nowOf(system),
            })),
            emit(({ event }) => ({ type: 'engine.killed' as const, reason: event.reason, hard: !!event.hard })),
          ],
        },
      },
    },
    killed: {
      on: {
        'engine.kill': {
          guard: 'upgradesToHard',
          actions: [
            assign({ hard: true }),
            emit(({ context }) => ({ type: 'engine.killed' as const, reason: context.reason ?? 'killed', hard: true })),
          ],
        },
        'engine.unkill': {
          target: 'running',
          actions: [
            assign(({ event }) => ({ reason: null, by: event.by ?? null, at: null, hard: false })),
            emit({ type: 'engine.resumed' as const }),
          ],
        },
      },
    },
  },
});
