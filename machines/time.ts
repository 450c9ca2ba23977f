import type { ActorSystem } from 'xstate';
import { systemClock } from './xstate-internals.js';

type AnyActorSystem = ActorSystem<any>;

/**
 * Time for machines, read from the clock the actor system was created with
 * (`createActor(m, { clock })`), so a simulated clock drives both `after` delays and stamps.
 * A system without `clock.now` (xstate/graph's traversal scope) reads 0; the runtime refuses
 * to start without one (see hasClock).
 */
export function nowOf(system: AnyActorSystem): number {
  return systemClock(system)?.now() ?? 0;
}

export function hasClock(system: AnyActorSystem): boolean {
  return systemClock(system) !== undefined;
}

/** Exponential backoff: base · 2^(attempt-1), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
