import { assign, setup } from 'xstate';
import { effectPlaceholders, type DeadmanOutput } from './effects.js';
import { killListener, type KillEvent } from './kill.js';
import { doneOutput, heldWhileKilled, POLL_DELAYS, type PollingInput } from './polling.js';

export type DeadmanInput = PollingInput;

/** A check after the interval: `onDone` says where its answer leads; a failed check waits for the next one. */
const checkEvery = <const T>(onDone: T) =>
  ({
    waiting: { after: { interval: 'checking' } },
    checking: { invoke: { id: 'deadmanCheck', src: 'deadmanCheck', input: {}, onDone, onError: 'waiting' } },
  }) as const;

/** Notices engine-wide silence while work is in flight; notifies once per transition. */
export const deadmanMachine = setup({
  types: { context: {} as DeadmanInput & { quietMs: number }, input: {} as DeadmanInput, events: {} as KillEvent },
  actors: { deadmanCheck: effectPlaceholders.deadmanCheck, notify: effectPlaceholders.notify, killListener },
  delays: POLL_DELAYS,
  guards: { silent: ({ event }) => doneOutput<DeadmanOutput>(event).silent },
  actions: { noteQuiet: assign({ quietMs: ({ event }) => doneOutput<DeadmanOutput>(event).quietMs }) },
}).createMachine({
  id: 'deadman',
  context: ({ input }) => ({ ...input, quietMs: 0 }),
  ...heldWhileKilled('ok', {
    ok: {
      initial: 'waiting',
      states: checkEvery([{ guard: 'silent', target: '#deadman.live.alarmed', actions: 'noteQuiet' }, { target: 'waiting' }]),
    },
    alarmed: {
      initial: 'notifying',
      states: {
        notifying: {
          invoke: {
            id: 'notify',
            src: 'notify',
            input: ({ context }: { context: { quietMs: number } }) => ({ kind: 'deadman', severity: 'warn' as const, title: `No progress for ${Math.round(context.quietMs / 60000)} min while work is in flight` }),
            onDone: 'waiting',
            onError: 'waiting',
          },
        },
        ...checkEvery([{ guard: 'silent', target: 'waiting' }, { target: '#deadman.live.ok' }]),
      },
    },
  }),
});
