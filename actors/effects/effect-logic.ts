import type { ActorScope, NonReducibleUnknown, PromiseActorLogic, PromiseSnapshot } from 'xstate';
import { relay } from '../../machines/xstate-internals.js';

/** The system an actor runs in, as xstate types it for every actor logic. */
type AnyActorSystem = ActorScope<PromiseSnapshot<unknown, unknown>, { type: string }>['system'];

/**
 * The promise actor every effect runs in: xstate's `fromPromise`, with one difference. A stopped
 * effect is aborted with one shared `AbortError`, where `fromPromise` builds a new DOMException
 * (and its stack) for every actor it stops. A kill stops an effect in each of 1,000 tasks in one
 * event, and those exceptions were a third of its in-memory cost.
 */
export const EFFECT_STOPPED: DOMException = new DOMException('The effect was stopped: its state was left (kill, timeout or a newer event).', 'AbortError');

const RESOLVE = 'xstate.promise.resolve';
const REJECT = 'xstate.promise.reject';
const STOP = 'xstate.stop';

type EffectEvent<T> = { type: typeof RESOLVE; data: T } | { type: typeof REJECT; data: unknown } | { type: typeof STOP };

export interface EffectArgs<TInput> {
  input: TInput;
  system: AnyActorSystem;
  self: unknown;
  signal: AbortSignal;
}

/** The same type as `fromPromise`'s, so it drops into `machine.provide({ actors })`. */
export type EffectLogic<TOutput, TInput> = PromiseActorLogic<TOutput, TInput>;

const controllers = new WeakMap<object, AbortController>();

export function fromEffect<TOutput, TInput = NonReducibleUnknown>(run: (args: EffectArgs<TInput>) => PromiseLike<TOutput>): EffectLogic<TOutput, TInput> {
  const logic: EffectLogic<TOutput, TInput> = {
    config: run,
    transition: (state, event, scope) => {
      if (state.status !== 'active') return state;
      const e = event as EffectEvent<TOutput>;
      switch (e.type) {
        case RESOLVE:
          return { ...state, status: 'done', output: e.data, input: undefined };
        case REJECT:
          return { ...state, status: 'error', error: e.data, input: undefined };
        case STOP:
          controllers.get(scope.self)?.abort(EFFECT_STOPPED);
          controllers.delete(scope.self);
          return { ...state, status: 'stopped', input: undefined };
        default:
          return state;
      }
    },
    start: (state, { self, system }) => {
      if (state.status !== 'active') return;
      const controller = new AbortController();
      controllers.set(self, controller);
      const settle = (type: typeof RESOLVE | typeof REJECT, data: unknown) => {
        if (self.getSnapshot().status !== 'active') return;
        controllers.delete(self);
        // Relayed like fromPromise's, so the inspector sees the effect as the sender; else a plain send.
        if (!relay(system, self, self, { type, data } as { type: string })) self.send({ type, data } as never);
      };
      Promise.resolve(run({ input: state.input as TInput, system, self, signal: controller.signal })).then(
        (output) => settle(RESOLVE, output),
        (error) => settle(REJECT, error),
      );
    },
    getInitialSnapshot: (_scope, input) => ({ status: 'active', output: undefined, error: undefined, input }) as PromiseSnapshot<TOutput, TInput>,
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as PromiseSnapshot<TOutput, TInput>,
  };
  return logic;
}
