import { setup } from 'xstate';
import { effectPlaceholders, type CredentialsOutput } from './effects.js';
import { killListener, type KillEvent } from './kill.js';
import { doneOutput, heldWhileKilled, POLL_DELAYS, type PollingInput } from './polling.js';

export type OauthWatchInput = PollingInput;

/** A state that tells once (the notify effect, gated in actors/) and looks again after the interval. */
const notifying = (severity: 'warn' | 'error', title: string) =>
  ({ invoke: { id: 'notify', src: 'notify', input: { kind: 'oauth', severity, title } }, after: { interval: 'checking' } }) as const;

/**
 * Credential expiry of the agents: ok → expiring → expired. The readCredentials effect
 * also tells the dispatch pool, which refuses dispatch while expired.
 */
export const oauthWatchMachine = setup({
  types: { context: {} as OauthWatchInput, input: {} as OauthWatchInput, events: {} as KillEvent },
  actors: { readCredentials: effectPlaceholders.readCredentials, notify: effectPlaceholders.notify, killListener },
  delays: POLL_DELAYS,
  guards: {
    is: ({ event }, state: CredentialsOutput['state']) => doneOutput<CredentialsOutput>(event).state === state,
  },
}).createMachine({
  id: 'oauthWatch',
  context: ({ input }) => input,
  ...heldWhileKilled('checking', {
    checking: {
      invoke: {
        id: 'readCredentials',
        src: 'readCredentials',
        input: {},
        onDone: [
          { guard: { type: 'is', params: 'expired' }, target: 'expired' },
          { guard: { type: 'is', params: 'expiring' }, target: 'expiring' },
          { target: 'ok' },
        ],
        onError: 'ok',
      },
    },
    ok: { after: { interval: 'checking' } },
    expiring: notifying('warn', 'Agent credentials expire soon'),
    expired: notifying('error', 'Agent credentials expired: dispatch is blocked'),
  }),
});
