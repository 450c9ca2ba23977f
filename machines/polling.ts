import type { DoneActorEvent } from 'xstate';

/**
 * The parts every polling machine (seeder, reaper, prWatcher, deadman, oauthWatch) is made of: an
 * interval from its input, the `live` region held while the engine is killed, and the idle ⇄ busy
 * loop around one scan effect. Each machine keeps its own `setup` (its effects, its named actions),
 * so every `src` and action name stays checked against it.
 */

/** Every polling machine's input: how often it looks again. */
export interface PollingInput {
  intervalMs: number;
}

/** The `interval` delay of `setup({ delays })`. */
export const POLL_DELAYS = { interval: ({ context }: { context: PollingInput }) => context.intervalMs };

/** The output of the effect whose completion is the event (named actions and guards see the machine's event type). */
export const doneOutput = <T>(event: unknown): T => (event as DoneActorEvent<T>).output;

/**
 * The shell of a polling machine: the kill listener, and a `live` region that `engine.killed` leaves
 * for `held`. Resuming starts `live` afresh: nothing of a scan is worth resuming half-way.
 */
export function heldWhileKilled<const Initial extends string, const States extends object>(initial: Initial, states: States) {
  return {
    invoke: { id: 'kill', src: 'killListener' },
    initial: 'live',
    states: {
      live: { initial, on: { 'engine.killed': 'held' }, states },
      held: { on: { 'engine.resumed': 'live' } },
    },
  } as const;
}

/**
 * idle ⇄ busy: `busy` runs the effect `src` and hands its output to the named action `deliver`; `idle`
 * waits the interval, or less when `poke` arrives. A failed scan idles until the next one.
 */
export function scanLoop<const Src extends string, const Deliver extends string, const Input>(o: { idle: string; busy: string; poke: string; src: Src; input: Input; deliver: Deliver }) {
  return {
    [o.idle]: { after: { interval: o.busy }, on: { [o.poke]: o.busy } },
    [o.busy]: { invoke: { id: o.src, src: o.src, input: o.input, onDone: { target: o.idle, actions: o.deliver }, onError: o.idle } },
  };
}
