import { assign, setup } from 'xstate';
import { effectPlaceholders, type DeadmanOutput } from './effects.js';
import { killListener, type KillEvent } from './kill.js';

export interface DeadmanInput {
  intervalMs: number;
}

/** Notices engine-wide silence while work is in flight; notifies once per transition. */
export const deadmanMachine = setup({
  types: { context: {} as DeadmanInput & { quietMs: number }, input: {} as DeadmanInput, events: {} as KillEvent },
  actors: { deadmanCheck: effectPlaceholders.deadmanCheck, notify: effectPlaceholders.notify, killListener },
  delays: { interval: ({ context }) => context.intervalMs },
  guards: { silent: ({ event }) => (event as unknown as { output: DeadmanOutput }).output.silent },
}).createMachine({
  id: 'deadman',
  context: ({ input }) => ({ ...input, quietMs: 0 }),
  invoke: { id: 'kill', src: 'killListener' },
  initial: 'live',
  states: {
    live: {
      initial: 'ok',
      on: { 'engine.killed': 'held' },
      states: {
        ok: {
          initial: 'waiting',
          states: {
            waiting: { after: { interval: 'checking' } },
            checking: {
              invoke: {
                id: 'deadmanCheck',
                src: 'deadmanCheck',
                input: {},
                onDone: [
                  { guard: 'silent', target: '#deadman.live.alarmed', actions: assign({ quietMs: ({ event }) => event.output.quietMs }) },
                  { target: 'waiting' },
                ],
                onError: 'waiting',
              },
            },
          },
        },
        alarmed: {
          initial: 'notifying',
          states: {
            notifying: {
              invoke: {
                id: 'notify',
                src: 'notify',
                input: ({ context }) => ({ kind: 'deadman', severity: 'warn' as const, title: `No progress for ${Math.round(context.quietMs / 60000)} min while work is in flight` }),
                onDone: 'waiting',
                onError: 'waiting',
              },
            },
            waiting: { after: { interval: 'checking' } },
            checking: {
              invoke: {
                id: 'deadmanCheck',
                src: 'deadmanCheck',
                input: {},
                onDone: [{ guard: 'silent', target: 'waiting' }, { target: '#deadman.live.ok' }],
                onError: 'waiting',
              },
            },
          },
        },
      },
    },
    held: { on: { 'engine.resumed': 'live' } },
  },
});
