import type { ActorSystem } from 'xstate';

type AnyActorSystem = ActorSystem<any>;

/**
 * Time for machines, read from the clock the actor system was created with
 * (`createActor(m, { clock })`), so a simulated clock drives both `after` delays and stamps.
 */
export function nowOf(system: AnyActorSystem): number {
  const clock = (system as unknown as { _clock?: { now?: () => number } })._clock;
  if (!clock?.now) {
    throw new Error('The actor system has no clock with now(): create the root actor with { clock } from src/clock.ts.');
  }
  return clock.now();
}

/** Exponential backoff: base · 2^(attempt-1), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
