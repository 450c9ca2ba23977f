import { assign, setup } from 'xstate';
import { effectPlaceholders, type ProbeOutput } from './effects.js';
import { killListener, type KillEvent } from './kill.js';
import { backoffMs } from './time.js';

export interface HostInput {
  name: string;
  probeIntervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface HostContext extends HostInput {
  capacity: number;
  inUse: number;
  failures: number;
  lastError: string | null;
}

export type HostEvent =
  | KillEvent
  | { type: 'host.leases'; inUse: number }
  | { type: 'host.probe' }
  | { type: 'host.drain' }
  | { type: 'host.undrain' };

/**
 * One per host: probes its envelope (capacity), tracks slot use, backs off while unreachable.
 * The dispatch pool owns the leases and tells the host how many are in use.
 */
export const hostMachine = setup({
  types: { context: {} as HostContext, input: {} as HostInput, events: {} as HostEvent },
  actors: { probeHost: effectPlaceholders.probeHost, killListener },
  delays: {
    probeInterval: ({ context }) => context.probeIntervalMs,
    retryDelay: ({ context }) => backoffMs(context.failures, context.backoffBaseMs, context.backoffMaxMs),
  },
  guards: {
    full: ({ context }) => context.inUse >= context.capacity,
    hasRoom: ({ context }) => context.inUse < context.capacity,
  },
}).createMachine({
  id: 'host',
  context: ({ input }) => ({ ...input, capacity: 0, inUse: 0, failures: 0, lastError: null }),
  invoke: { id: 'kill', src: 'killListener' },
  initial: 'live',
  states: {
    live: {
      initial: 'connecting',
      on: {
        'engine.killed': 'held',
        'host.leases': { actions: assign({ inUse: ({ event }) => event.inUse }) },
        'host.drain': '.draining',
      },
      states: {
        connecting: {
          invoke: {
            id: 'probeHost',
            src: 'probeHost',
            input: ({ context }) => ({ host: context.name }),
            onDone: {
              target: 'available',
              actions: assign(({ event }) => ({ capacity: (event.output as ProbeOutput).capacity, inUse: (event.output as ProbeOutput).inUse, failures: 0, lastError: null })),
            },
            onError: { target: 'unreachable', actions: assign(({ context, event }) => ({ failures: context.failures + 1, capacity: 0, lastError: String(event.error) })) },
          },
        },
        available: {
          initial: 'check',
          after: { probeInterval: 'connecting' },
          on: { 'host.probe': 'connecting' },
          states: {
            check: { always: [{ guard: 'full', target: 'saturated' }, { target: 'ready' }] },
            ready: { on: { 'host.leases': { guard: ({ event, context }) => event.inUse >= context.capacity, target: 'saturated', actions: assign({ inUse: ({ event }) => event.inUse }) } } },
            saturated: { on: { 'host.leases': { guard: ({ event, context }) => event.inUse < context.capacity, target: 'ready', actions: assign({ inUse: ({ event }) => event.inUse }) } } },
          },
        },
        unreachable: {
          after: { retryDelay: 'connecting' },
          on: { 'host.probe': 'connecting' },
        },
        draining: {
          entry: assign({ capacity: 0 }),
          on: { 'host.undrain': 'connecting', 'host.drain': {} },
        },
        hist: { type: 'history', history: 'deep' },
      },
    },
    held: { on: { 'engine.resumed': 'live.hist', 'host.leases': { actions: assign({ inUse: ({ event }) => event.inUse }) } } },
  },
});
