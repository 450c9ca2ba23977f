import { assign, setup, type DoneActorEvent } from 'xstate';
import type { ChecksOutput, ClaimOutput, CritiqueOutput, MergeOutput, OpenPrOutput, PlanOutput, ShipOutput, WorkOutput } from './effects.js';
import { effectPlaceholders } from './effects.js';
import { killListener } from './kill.js';
import { isLaunchTrouble, isOutage, type OutageKind } from './outcome.js';
import { MAX_ENV_WAITS, MAX_PR_FAILURES, MAX_STALL_WAITS, type PrStep, type TaskContext, type TaskEvent, type TaskInput } from './task-context.js';
import { backoffMs, nowOf } from './time.js';

/**
 * The task machine's guards and actions: what each named guard asks and what each named action
 * assigns. The chart that uses them, one transition at a time, is machines/task.ts.
 */

/** The output of the effect whose completion caused this transition. */
export const out = <T>(event: unknown): T => (event as DoneActorEvent<T>).output;

export type Verdict = Exclude<CritiqueOutput, { verdict: 'none' }>;

export const PR_STEP_NAMES: Record<PrStep, string> = { pr_open: 'opening the PR', checks: 'the checks', reviewing: 'the review', merging: 'the merge' };

export const base = (context: TaskContext) => ({ taskId: context.id, attempt: context.attempt });

/** The end of a wait that spends no attempt: as long as the next attempt's backoff would be. */
const unspentWaitUntil = (context: TaskContext, now: number) => now + backoffMs(context.attempt + 1, context.policy.backoffBaseMs, context.policy.backoffMaxMs);

/** What an outage event says: its kind, its reset time, whether another route runs next, and the error text. */
function outageOf(event: unknown): { kind: OutageKind; resetAt?: number; fallback?: boolean; error: string } | undefined {
  const e = event as { output?: { outage?: unknown; outcome?: unknown; resetAt?: number; fallback?: boolean; error?: unknown }; error?: { outage?: unknown; resetAt?: number } };
  const o = e.output;
  const kind = o ? (o.outage ?? o.outcome) : e.error?.outage;
  if (!isOutage(kind)) return undefined;
  const resetAt = o ? o.resetAt : e.error?.resetAt;
  return { kind, ...(typeof resetAt === 'number' ? { resetAt } : {}), ...(o?.fallback ? { fallback: true } : {}), error: String(o ? o.error ?? '' : e.error) };
}

export const taskSetup = setup({
  types: {
    context: {} as TaskContext,
    input: {} as TaskInput,
    events: {} as TaskEvent,
  },
  actors: { ...effectPlaceholders, killListener },
  guards: {
    canRetry: ({ context }) => context.attempt + 1 < context.policy.maxAttempts,
    canFix: ({ context }) => context.fix < context.policy.maxFixAttempts,
    // The effects classify a launch error (full disk, no descriptors: environment; host unreachable: network): not the task's doing, within a bound.
    envError: ({ context, event }) => isLaunchTrouble((event as { error?: { outage?: unknown } }).error?.outage) && (context.envWaits ?? 0) < MAX_ENV_WAITS,
    // An outage of an agent step or of the forge's credentials (machines/outcome.ts); a stall or timeout only within its bound.
    outage: ({ context, event }, params?: { launch?: boolean }) => {
      const o = outageOf(event);
      if (!o) return false;
      // At a launch (provisioning, the worker), a failure of the machine or its host (environment, network) is
      // envError's, bounded by MAX_ENV_WAITS; elsewhere (a planner or critic the sandbox refused) it is an outage.
      if (params?.launch && (event as { error?: unknown }).error !== undefined && isLaunchTrouble(o.kind)) return false;
      return (o.kind !== 'stalled' && o.kind !== 'timed_out') || (context.stallWaits ?? 0) < MAX_STALL_WAITS;
    },
    // A plan is validated by the plan effect (a schema) before it is put in context: no plan, no worker.
    hasPlan: ({ context }) => context.plan !== null && context.plan.files_touched.length > 0,
    canRetryPr: ({ context }) => (context.prFailures ?? 0) + 1 < (context.policy.maxPrFailures ?? MAX_PR_FAILURES),
    // Where a failed PR step resumes; a human's retry after failed reviews must not merge unreviewed.
    resumeAt: ({ context }, step: PrStep) => (context.prFailures ?? 0) > 0 && context.prStep === step,
    replanOnClose: ({ context }) => context.policy.onClosedPr === 'replan' && context.attempt + 1 < context.policy.maxAttempts,
    planOk: ({ event }) => out<PlanOutput>(event).ok,
    granted: ({ event }) => out<ClaimOutput>(event).granted,
    agentOk: ({ event }) => out<WorkOutput>(event).outcome === 'ok',
    agentLost: ({ event }) => out<WorkOutput>(event).outcome === 'lost',
    shipEmpty: ({ event }) => out<ShipOutput>(event).empty,
    prAlreadyMerged: ({ event }) => out<OpenPrOutput>(event).merged,
    prClosedMeanwhile: ({ event }) => out<OpenPrOutput>(event).closed === true,
    checksGreen: ({ event }) => out<ChecksOutput>(event).state === 'success',
    approved: ({ event }) => out<CritiqueOutput>(event).verdict === 'approve',
    noVerdict: ({ event }) => out<CritiqueOutput>(event).verdict === 'none',
    mergedNow: ({ event }) => ['merged', 'already_merged'].includes(out<MergeOutput>(event).outcome),
    headMoved: ({ event }) => out<MergeOutput>(event).outcome === 'head_moved',
    mergeRefused: ({ event }) => out<MergeOutput>(event).outcome === 'refused',
    prClosed: ({ event }) => out<MergeOutput>(event).outcome === 'closed',
  },
  actions: {
    /** Next attempt after a failure or a reap: counted, then waited out. */
    scheduleRetry: assign(({ context, system }, params: { reason: string }) => {
      const attempt = context.attempt + 1;
      return {
        attempt,
        fix: 0,
        feedback: null,
        reason: params.reason,
        until: nowOf(system) + backoffMs(attempt, context.policy.backoffBaseMs, context.policy.backoffMaxMs),
      };
    }),
    /** Waits out a failure that spent no attempt (the slot claim), with the backoff of the next one. */
    scheduleWait: assign(({ context, system }, params: { reason: string }) => ({ reason: params.reason, until: unspentWaitUntil(context, nowOf(system)) })),
    // A forge or network failure at a PR step: not the change's fault, so no attempt is spent; the step runs again.
    schedulePrRetry: assign(({ context, system }, params: { step: PrStep; error: unknown }) => {
      const prFailures = (context.prFailures ?? 0) + 1;
      const reason = `${PR_STEP_NAMES[params.step]} failed, retrying: ${String(params.error).slice(0, 300)}`;
      return { prFailures, prStep: params.step, reason, until: nowOf(system) + backoffMs(prFailures, context.policy.backoffBaseMs, context.policy.backoffMaxMs) };
    }),
    askHumanAfterPrFailures: assign(({ context }, params: { step: PrStep; error: unknown }) => {
      const prFailures = (context.prFailures ?? 0) + 1;
      const reason = `${PR_STEP_NAMES[params.step]} failed ${prFailures} times in a row (last: ${String(params.error).slice(0, 300)}): fix the cause, then send task.retry to run it again, or merge or close the PR by hand`;
      return { prFailures, prStep: params.step, until: null, reason };
    }),
    prStepDone: assign({ prFailures: 0, prStep: null, outageWaits: 0 }),
    /**
     * Waits out an outage without spending an attempt: at once when another route runs next, else after a
     * backoff growing with consecutive outages and never before the provider's reset time (or the gate's probe).
     */
    waitOutOutage: assign(({ context, event, system }, params: { step: string; prStep?: PrStep }) => {
      const o = outageOf(event)!;
      const outageWaits = (context.outageWaits ?? 0) + 1;
      const now = nowOf(system);
      const until = o.fallback ? now : Math.max(o.resetAt ?? 0, now + backoffMs(outageWaits, context.policy.backoffBaseMs, context.policy.backoffMaxMs));
      const stall = o.kind === 'stalled' || o.kind === 'timed_out';
      const reset = o.resetAt !== undefined ? ` (resets ${new Date(o.resetAt).toISOString()})` : '';
      return {
        outageWaits,
        ...(stall ? { stallWaits: (context.stallWaits ?? 0) + 1 } : {}),
        ...(params.prStep ? { prStep: params.prStep } : {}),
        until,
        reason: `${params.step} met an outage (${o.kind})${reset}, retrying without spending an attempt: ${o.error.slice(0, 300)}`,
      };
    }),
    clearWait: assign({ until: null }),
    abandon: assign((_, params: { reason: string }) => ({ reason: params.reason, until: null })),
    /** The PR was closed unmerged and the policy says plan again: a new attempt from scratch. */
    replan: assign(({ context }) => ({ attempt: context.attempt + 1, fix: 0, feedback: null, plan: null, pr: null, prFailures: 0, prStep: null, until: null, reason: 'PR closed unmerged: planning again' })),
    /** An environment error while dispatching: wait for a slot again, counted but no attempt spent. */
    waitOutEnvironment: assign(({ context, event, system }) => ({
      envWaits: (context.envWaits ?? 0) + 1,
      reason: `dispatch paused by the environment: ${String((event as { error?: unknown }).error)}`,
      until: unspentWaitUntil(context, nowOf(system)),
    })),
    // A done effect reports its cost in its output; one that failed after spending, on its error.
    addCost: assign(({ context, event }) => ({
      costUsd: context.costUsd + (out<{ costUsd?: number }>(event)?.costUsd ?? (event as { error?: { costUsd?: unknown } }).error?.costUsd as number ?? 0),
    })),
  },
});
