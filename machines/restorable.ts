import type { AnyStateMachine } from 'xstate';

/**
 * Wraps a machine so a parent can spawn it *from a persisted snapshot*: spawn options take
 * no snapshot, so `input.restore` carries it and getInitialSnapshot restores instead of
 * starting fresh (invocations restart, entry actions do not re-run: xstate's restore rules).
 * Each actor is persisted on its own, so the engine respawns its children from their rows.
 */
export function restorable<M extends AnyStateMachine>(machine: M): M {
  const wrapped = Object.create(machine) as M;
  wrapped.getInitialSnapshot = ((scope: unknown, input: { restore?: unknown } | undefined) =>
    input?.restore
      ? machine.restoreSnapshot(input.restore as never, scope as never)
      : machine.getInitialSnapshot(scope as never, input as never)) as M['getInitialSnapshot'];
  // provide() must keep the wrapper, or restored children would lose their effects.
  wrapped.provide = ((impl: never) => restorable(machine.provide(impl))) as M['provide'];
  return wrapped;
}
