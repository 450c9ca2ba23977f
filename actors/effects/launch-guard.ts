import { EnvironmentError } from '../../src/errors.js';
import { environmentErrorCode } from '../../src/gates/environment-errors.js';
import type { EffectDeps } from './deps.js';

type Launch<I, O> = (deps: EffectDeps, input: I, signal: AbortSignal) => Promise<O>;

/**
 * Wraps an effect that dispatches a task (provision, runAgent). An environment error (ENOSPC, EDQUOT,
 * EROFS, EMFILE, ENFILE) is the machine's trouble, not the task's: dispatch is closed until the logs
 * dir takes a write again, and the error is rethrown as an EnvironmentError, which the task machine
 * answers by waiting for a slot again without spending an attempt.
 */
export function guardLaunch<I extends { taskId: string }, O>(effect: Launch<I, O>): Launch<I, O> {
  return async (deps, input, signal) => {
    try {
      return await effect(deps, input, signal);
    } catch (error) {
      const code = environmentErrorCode(error);
      if (!code) throw error;
      deps.dispatchGate?.block(error);
      const message = error instanceof Error ? error.message : String(error);
      throw new EnvironmentError(
        `Dispatching ${input.taskId} failed on the machine, not in the task: ${code} (${message}). Expected the logs dir ${deps.adapter.paths.logs} to take writes; the task waits for a slot again without spending an attempt.`,
        code,
        { cause: error, fix: 'Free disk space (or raise the quota / file-descriptor limit) on the machine; dispatch reopens by itself once a write to the logs dir succeeds.' },
      );
    }
  };
}
