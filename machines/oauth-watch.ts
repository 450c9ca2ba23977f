import { setup } from 'xstate';
import { effectPlaceholders, type CredentialsOutput } from './effects.js';
import { killListener, type KillEvent } from './kill.js';

export interface OauthWatchInput {
  intervalMs: number;
}

/**
 * Credential expiry of the agents: ok → expiring → expired. The readCredentials effect
 * also tells the dispatch pool, which refuses dispatch while expired.
 */
export const oauthWatchMachine = setup({
  types: { context: {} as OauthWatchInput, input: {} as OauthWatchInput, events: {} as KillEvent },
  actors: { readCredentials: effectPlaceholders.readCredentials, notify: effectPlaceholders.notify, killListener },
  delays: { interval: ({ context }) => context.intervalMs },
  guards: {
    is: ({ event }, state: CredentialsOutput['state']) => (event as unknown as { output: CredentialsOutput }).output.state === state,
  },
}).createMachine({
  id: 'oauthWatch',
  context: ({ input }) => input,
  invoke: { id: 'kill', src: 'killListener' },
  initial: 'live',
  states: {
    live: {
      initial: 'checking',
      on: { 'engine.killed': 'held' },
      states: {
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
        expiring: {
          invoke: { id: 'notify', src: 'notify', input: { kind: 'oauth', severity: 'warn' as const, title: 'Agent credentials expire soon' } },
          after: { interval: 'checking' },
        },
        expired: {
          invoke: { id: 'notify', src: 'notify', input: { kind: 'oauth', severity: 'error' as const, title: 'Agent credentials expired: dispatch is blocked' } },
          after: { interval: 'checking' },
        },
      },
    },
    held: { on: { 'engine.resumed': 'live' } },
  },
});
