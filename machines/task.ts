import { and, assign, not, setup, type DoneActorEvent } from 'xstate';
import type {
  ChecksOutput,
  ClaimOutput,
  CritiqueOutput,
  LedgerNote,
  MergeOutput,
  OpenPrOutput,
  Plan,
  PlanOutput,
  ProvisionOutput,
  ShipOutput,
  WorkOutput,
} from './effects.js';
import { effectPlaceholders } from './effects.js';
import { killListener, type KillEvent } from './kill.js';
import { isOutage, type OutageKind } from './outcome.js';
import { backoffMs, nowOf } from './time.js';

/** Limits the task lives by; from the adapter's policy and engine sections. */
export interface TaskPolicy {
  maxAttempts: number;
  maxFixAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  autoMerge: boolean;
  /** A PR closed unmerged by a human: abandon the task (default) or plan it afresh. */
  onClosedPr?: 'abandon' | 'replan';
  /** Consecutive failures of the PR machinery (forge, network: open, checks, review, merge) retried before a human is asked. */
  maxPrFailures?: number;
}

/** Default bound on consecutive PR-machinery failures: 7 waits doubling from the 30 s default base, about an hour of retries. */
export const MAX_PR_FAILURES = 8;

/**
 * Environment errors (a full disk, no descriptors, a host lost while dispatching) a task waits out in a row
 * without spending an attempt (a worker that ran to its end starts the count again). The engine's gates (the logs-dir probe, a host's probe) normally keep
 * a task from meeting more than one or two. Past this bound (a probe succeeds but the launch keeps failing,
 * e.g. a remote host's disk is full) they count as ordinary failures, so a task never relaunches forever.
 */
export const MAX_ENV_WAITS = 5;

/**
 * Stalls and wall-clock timeouts of the worker relaunched without spending an attempt, over the task's
 * life. Unlike a rate limit, a hang can be the task's own doing (a test that never ends): past this
 * bound it counts as an ordinary failure, so a task never burns money relaunching forever.
 */
export const MAX_STALL_WAITS = 3;

/** The PR steps a forge or network failure is retried at, after `pr_backoff`. */
export type PrStep = 'pr_open' | 'checks' | 'reviewing' | 'merging';

export interface TaskInput {
  id: string;
  title: string;
  description: string;
  tier: number;
  attempt: number;
  policy: TaskPolicy;
}

export interface TaskContext extends TaskInput {
  plan: Plan | null;
  host: string | null;
  branch: string | null;
  worktree: string | null;
  pr: number | null;
  headSha: string | null;
  /** Full sha of main when the task was first provisioned: the change reviewed and merged is baseSha..headSha. */
  baseSha: string | null;
  costUsd: number;
  fix: number;
  feedback: string | null;
  needsHuman: boolean;
  /** Consecutive failures of the PR machinery (not rejections); reset when a PR step succeeds. */
  prFailures: number;
  /** The PR step that failed last: where `pr_backoff` (and a human's task.retry) resumes. */
  prStep: PrStep | null;
  /** Environment errors waited out so far, without spending an attempt (bounded by MAX_ENV_WAITS). */
  envWaits: number;
  /** Consecutive agent or forge outages waited out (the backoff grows with it); reset when a step succeeds. */
  outageWaits: number;
  /** Worker stalls and timeouts relaunched without spending an attempt (bounded by MAX_STALL_WAITS). */
  stallWaits: number;
  reason: string | null;
  /** Absolute deadline of the current wait (backoff / deferral): survives a restore. */
  until: number | null;
  deferredAt: number | null;
}

export type TaskEvent =
  | KillEvent
  | { type: 'task.reap'; reason: string; ledger?: LedgerNote[] }
  | { type: 'task.retry'; by?: string }
  | { type: 'task.abandon'; reason: string }
  | { type: 'pr.merged'; detail?: string; ledger?: LedgerNote[] }
  | { type: 'pr.closed'; detail?: string; ledger?: LedgerNote[] }
  | { type: 'pr.checks_failed'; detail?: string; ledger?: LedgerNote[] }
  | { type: 'pr.changes_requested'; detail?: string; ledger?: LedgerNote[] };

type Verdict = Exclude<CritiqueOutput, { verdict: 'none' }>;

/** The output of the effect whose completion caused this transition. */
const out = <T>(event: unknown): T => (event as DoneActorEvent<T>).output;

/** States that hold a host slot: the dispatch pool releases the lease when a task leaves them. */
export const SLOT_STATES = ['provisioning', 'working', 'shipping'] as const;
/** States in which the task owns an open PR: never reaped. */
export const PR_STATES = ['pr_open', 'checks', 'reviewing', 'pr_backoff', 'merging'] as const;

const PR_STEP_NAMES: Record<PrStep, string> = { pr_open: 'opening the PR', checks: 'the checks', reviewing: 'the review', merging: 'the merge' };

export const TERMINAL_STATES = ['merged', 'abandoned'] as const;

const base = (context: TaskContext) => ({ taskId: context.id, attempt: context.attempt });

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

/** Out of `backoff`: a task with a validated plan waits for a slot again; one without plans again (never a worker without a plan). */
const AFTER_BACKOFF = [
  { guard: 'hasPlan', target: 'waiting', actions: 'clearWait' },
  { target: 'planning', actions: 'clearWait' },
] as const;

/** A step before the PR met an outage (an agent's rate limit, overload, bad key, stall; the forge's refused token): wait it out in `backoff`, spending nothing. */
const STEP_OUTAGE = (step: string, launch = false) =>
  ({ guard: { type: 'outage', params: { launch } }, target: 'backoff', actions: ['addCost', { type: 'waitOutOutage', params: { step } }] }) as const;

/**
 * A PR step met an outage (the critic's model API, or the forge's credentials behind its gate): wait in
 * `pr_backoff` and run the same step again, not counted towards maxPrFailures.
 */
const PR_OUTAGE = (step: PrStep) => ({ guard: 'outage', target: 'pr_backoff', actions: ['addCost', { type: 'waitOutOutage', params: { step: PR_STEP_NAMES[step], prStep: step } }] }) as const;

/** Out of `pr_backoff` (its wait over, or a human's retry): back to the PR step that failed. */
const RESUME_FAILED_STEP = [
  { guard: { type: 'resumeAt', params: 'pr_open' }, target: 'pr_open', actions: 'clearWait' },
  { guard: { type: 'resumeAt', params: 'checks' }, target: 'checks', actions: 'clearWait' },
  { guard: { type: 'resumeAt', params: 'merging' }, target: 'merging', actions: 'clearWait' },
  { target: 'reviewing', actions: 'clearWait' },
] as const;

/**
 * One roadmap item from plan to merge. Every wait is an invoked `sleep` with an absolute
 * deadline in context, so a restored task still wakes up; `held` + deep history lets a
 * killed task resume exactly where it was.
 */
export const taskMachine = setup({
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
    envError: ({ context, event }) => ['environment', 'network'].includes(String((event as { error?: { outage?: unknown } }).error?.outage)) && (context.envWaits ?? 0) < MAX_ENV_WAITS,
    // An outage of an agent step or of the forge's credentials (machines/outcome.ts); a stall or timeout only within its bound.
    outage: ({ context, event }, params?: { launch?: boolean }) => {
      const o = outageOf(event);
      if (!o) return false;
      // At a launch (provisioning, the worker), a failure of the machine or its host (environment, network) is
      // envError's, bounded by MAX_ENV_WAITS; elsewhere (a planner or critic the sandbox refused) it is an outage.
      if (params?.launch && (event as { error?: unknown }).error !== undefined && (o.kind === 'environment' || o.kind === 'network')) return false;
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
}).createMachine({
  id: 'task',
  context: ({ input }) => ({
    ...input,
    plan: null,
    host: null,
    branch: null,
    worktree: null,
    pr: null,
    headSha: null,
    baseSha: null,
    costUsd: 0,
    fix: 0,
    feedback: null,
    needsHuman: false,
    prFailures: 0,
    prStep: null,
    envWaits: 0,
    outageWaits: 0,
    stallWaits: 0,
    reason: null,
    until: null,
    deferredAt: null,
  }),
  invoke: { id: 'kill', src: 'killListener' },
  initial: 'live',
  states: {
    live: {
      initial: 'planning',
      on: {
        'engine.killed': { target: 'held' },
        // Its item was closed at the roadmap source (an issue closed by a human): whatever it was doing stops.
        'task.abandon': { target: '#task.abandoned', actions: { type: 'abandon', params: ({ event }) => ({ reason: event.reason }) } },
      },
      states: {
        planning: {
          invoke: {
            id: 'plan',
            src: 'plan',
            input: ({ context }) => ({ ...base(context), title: context.title, description: context.description }),
            onDone: [
              {
                guard: 'planOk',
                target: 'waiting',
                actions: ['addCost', assign({ outageWaits: 0, plan: ({ event }) => (event.output as Extract<PlanOutput, { ok: true }>).plan })],
              },
              STEP_OUTAGE('the planner'),
              { guard: 'canRetry', target: 'backoff', actions: ['addCost', { type: 'scheduleRetry', params: ({ event }) => ({ reason: `plan invalid: ${(event.output as { error: string }).error}` }) }] },
              { target: '#task.abandoned', actions: ['addCost', { type: 'abandon', params: ({ event }) => ({ reason: `plan invalid: ${(event.output as { error: string }).error}` }) }] },
            ],
            onError: [
              STEP_OUTAGE('the planner'),
              { guard: 'canRetry', target: 'backoff', actions: { type: 'scheduleRetry', params: ({ event }) => ({ reason: `planner failed: ${String(event.error)}` }) } },
              { target: '#task.abandoned', actions: { type: 'abandon', params: ({ event }) => ({ reason: `planner failed: ${String(event.error)}` }) } },
            ],
          },
        },
        waiting: {
          invoke: {
            id: 'claimSlot',
            src: 'claimSlot',
            input: ({ context }) => ({ ...base(context), filesTouched: context.plan?.files_touched ?? [] }),
            onDone: [
              // No validated plan (a task restored from before plans were required here): plan first, never a worker without one.
              { guard: and(['granted', not('hasPlan')]), target: 'planning' },
              { guard: 'granted', target: 'provisioning', actions: assign({ host: ({ event }) => (event.output as Extract<ClaimOutput, { granted: true }>).host }) },
              {
                target: 'deferred',
                actions: assign(({ event, system }) => {
                  const out = event.output as Extract<ClaimOutput, { granted: false }>;
                  return { reason: `deferred: ${out.reason}`, until: out.until, deferredAt: nowOf(system) };
                }),
              },
            ],
            // Nothing was dispatched: wait and ask again without spending an attempt (a forge hiccup must not abandon a task).
            onError: { target: 'backoff', actions: { type: 'scheduleWait', params: ({ event }) => ({ reason: `slot claim failed: ${String(event.error)}` }) } },
          },
        },
        deferred: {
          on: { 'task.retry': 'waiting' },
          invoke: { id: 'sleep', src: 'sleep', input: ({ context }) => ({ until: context.until ?? 0 }), onDone: 'waiting' },
        },
        provisioning: {
          invoke: {
            id: 'provision',
            src: 'provision',
            input: ({ context }) => ({ ...base(context), host: context.host!, baseSha: context.baseSha }),
            onDone: { target: 'working', actions: assign(({ event }) => ({ branch: event.output.branch, worktree: event.output.worktree, baseSha: event.output.baseSha })) },
            onError: [
              { guard: 'envError', target: 'backoff', actions: 'waitOutEnvironment' },
              STEP_OUTAGE('provisioning', true),
              { guard: 'canRetry', target: 'backoff', actions: { type: 'scheduleRetry', params: ({ event }) => ({ reason: `provisioning failed: ${String(event.error)}` }) } },
              { target: '#task.abandoned', actions: { type: 'abandon', params: ({ event }) => ({ reason: `provisioning failed: ${String(event.error)}` }) } },
            ],
          },
        },
        working: {
          on: { 'task.reap': [{ guard: 'canRetry', target: 'backoff', actions: { type: 'scheduleRetry', params: ({ event }) => ({ reason: `reaped: ${event.reason}` }) } }, { target: '#task.abandoned', actions: { type: 'abandon', params: ({ event }) => ({ reason: `reaped: ${event.reason}` }) } }] },
          invoke: {
            id: 'runAgent',
            src: 'runAgent',
            input: ({ context }) => ({
              ...base(context),
              host: context.host!,
              worktree: context.worktree!,
              branch: context.branch!,
              plan: context.plan!,
              feedback: context.feedback,
              fix: context.fix,
              title: context.title,
              description: context.description,
            }),
            onDone: [
              { guard: 'agentOk', target: 'shipping', actions: ['addCost', assign({ outageWaits: 0, envWaits: 0 })] },
              { guard: 'agentLost', target: 'reaped', actions: ['addCost', assign({ reason: ({ event }) => `reaped: ${event.output.error ?? 'worker lost'}` })] },
              STEP_OUTAGE('the worker', true),
              { guard: 'canRetry', target: 'backoff', actions: ['addCost', { type: 'scheduleRetry', params: ({ event }) => ({ reason: `agent ${event.output.outcome}: ${event.output.error ?? ''}` }) }] },
              { target: '#task.abandoned', actions: ['addCost', { type: 'abandon', params: ({ event }) => ({ reason: `agent ${event.output.outcome}: ${event.output.error ?? ''}` }) }] },
            ],
            onError: [
              { guard: 'envError', target: 'backoff', actions: 'waitOutEnvironment' },
              STEP_OUTAGE('the worker', true),
              { guard: 'canRetry', target: 'backoff', actions: { type: 'scheduleRetry', params: ({ event }) => ({ reason: `agent error: ${String(event.error)}` }) } },
              { target: '#task.abandoned', actions: { type: 'abandon', params: ({ event }) => ({ reason: `agent error: ${String(event.error)}` }) } },
            ],
          },
        },
        // A visible step of its own so the ledger shows the reap; leaves at once.
        reaped: {
          always: [
            { guard: 'canRetry', target: 'backoff', actions: { type: 'scheduleRetry', params: ({ context }) => ({ reason: context.reason ?? 'reaped' }) } },
            { target: '#task.abandoned', actions: { type: 'abandon', params: ({ context }) => ({ reason: context.reason ?? 'reaped' }) } },
          ],
        },
        shipping: {
          invoke: {
            id: 'ship',
            src: 'ship',
            input: ({ context }) => ({ ...base(context), host: context.host!, worktree: context.worktree!, branch: context.branch!, baseSha: context.baseSha, filesTouched: context.plan?.files_touched ?? [] }),
            onDone: [
              {
                guard: 'shipEmpty',
                target: 'rejected',
                actions: assign(({ event }) => ({ feedback: event.output.refused ?? 'The branch has no commits: make the change and commit it.' })),
              },
              { target: 'pr_open', actions: assign({ headSha: ({ event }) => event.output.headSha, baseSha: ({ context, event }) => event.output.baseSha ?? context.baseSha }) },
            ],
            onError: [
              { guard: 'canRetry', target: 'backoff', actions: { type: 'scheduleRetry', params: ({ event }) => ({ reason: `ship failed: ${String(event.error)}` }) } },
              { target: '#task.abandoned', actions: { type: 'abandon', params: ({ event }) => ({ reason: `ship failed: ${String(event.error)}` }) } },
            ],
          },
        },
        pr_open: {
          on: { 'pr.merged': { target: '#task.merged' }, 'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }] },
          invoke: {
            id: 'openPr',
            src: 'openPr',
            input: ({ context }) => ({ ...base(context), branch: context.branch!, title: context.title, plan: context.plan!, headSha: context.headSha! }),
            onDone: [
              { guard: 'prAlreadyMerged', target: '#task.merged', actions: assign({ pr: ({ event }) => event.output.pr }) },
              // Closed by a human while the task was away from its PR (a fix loop, a backoff): as if seen closed.
              { guard: and(['prClosedMeanwhile', 'replanOnClose']), target: 'planning', actions: 'replan' },
              { guard: 'prClosedMeanwhile', target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } },
              { target: 'checks', actions: ['prStepDone', assign({ pr: ({ event }) => event.output.pr })] },
            ],
            onError: [
              // A forge or network failure: no attempt spent; the step runs again after a backoff, then a human is asked.
              PR_OUTAGE('pr_open'),
              { guard: 'canRetryPr', target: 'pr_backoff', actions: [{ type: 'schedulePrRetry', params: ({ event }) => ({ step: 'pr_open', error: event.error }) }] },
              { target: 'awaiting_human', actions: [{ type: 'askHumanAfterPrFailures', params: ({ event }) => ({ step: 'pr_open', error: event.error }) }] },
            ],
          },
        },
        checks: {
          on: { 'pr.merged': { target: '#task.merged' }, 'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }] },
          invoke: {
            id: 'runChecks',
            src: 'runChecks',
            input: ({ context }) => ({ ...base(context), pr: context.pr!, worktree: context.worktree! }),
            onDone: [
              { guard: 'checksGreen', target: 'reviewing', actions: 'prStepDone' },
              { target: 'rejected', actions: ['prStepDone', assign({ feedback: ({ event }) => `Checks failed:\n${event.output.summary}` })] },
            ],
            onError: [
              // A forge or network failure: no attempt spent; the step runs again after a backoff, then a human is asked.
              PR_OUTAGE('checks'),
              { guard: 'canRetryPr', target: 'pr_backoff', actions: [{ type: 'schedulePrRetry', params: ({ event }) => ({ step: 'checks', error: event.error }) }] },
              { target: 'awaiting_human', actions: [{ type: 'askHumanAfterPrFailures', params: ({ event }) => ({ step: 'checks', error: event.error }) }] },
            ],
          },
        },
        reviewing: {
          on: { 'pr.merged': { target: '#task.merged' }, 'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }] },
          invoke: {
            id: 'critique',
            src: 'critique',
            input: ({ context }) => ({ ...base(context), pr: context.pr!, plan: context.plan!, title: context.title, baseSha: context.baseSha, headSha: context.headSha }),
            // A verdict (even one made of garbage: actors/effects/task-effects.ts critique) is an answer: approve or reject.
            onDone: [
              PR_OUTAGE('reviewing'),
              // No verdict past the outage bound (a critic that keeps stalling): a PR-step failure, bounded, then a human; never a rejection.
              { guard: and(['noVerdict', 'canRetryPr']), target: 'pr_backoff', actions: ['addCost', { type: 'schedulePrRetry', params: ({ event }) => ({ step: 'reviewing', error: (event.output as { error?: string }).error }) }] },
              { guard: 'noVerdict', target: 'awaiting_human', actions: ['addCost', { type: 'askHumanAfterPrFailures', params: ({ event }) => ({ step: 'reviewing', error: (event.output as { error?: string }).error }) }] },
              { guard: 'approved', target: 'merging', actions: ['addCost', 'prStepDone', assign({ needsHuman: ({ event }) => !!(event.output as Verdict).needsHuman })] },
              { target: 'rejected', actions: ['addCost', 'prStepDone', assign({ feedback: ({ event }) => `The critic rejected the change:\n- ${(event.output as Verdict).reasons.join('\n- ')}` })] },
            ],
            // No verdict: the review machinery failed (forge 5xx, network). Not the change's fault: review again, bounded.
            onError: [
              // A forge or network failure: no attempt spent; the step runs again after a backoff, then a human is asked.
              PR_OUTAGE('reviewing'),
              { guard: 'canRetryPr', target: 'pr_backoff', actions: ['addCost', { type: 'schedulePrRetry', params: ({ event }) => ({ step: 'reviewing', error: event.error }) }] },
              { target: 'awaiting_human', actions: ['addCost', { type: 'askHumanAfterPrFailures', params: ({ event }) => ({ step: 'reviewing', error: event.error }) }] },
            ],
          },
        },
        // Waiting out a failed PR step (forge or network trouble); the PR stays open and watched. Resumes that step.
        pr_backoff: {
          on: {
            'pr.merged': { target: '#task.merged' },
            'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }],
            'task.retry': RESUME_FAILED_STEP,
          },
          invoke: {
            id: 'sleep',
            src: 'sleep',
            input: ({ context }) => ({ until: context.until ?? 0 }),
            onDone: RESUME_FAILED_STEP,
          },
        },
        merging: {
          on: { 'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }] },
          invoke: {
            id: 'merge',
            src: 'merge',
            input: ({ context }) => ({ ...base(context), pr: context.pr!, headSha: context.headSha!, baseSha: context.baseSha, title: context.title, needsHuman: context.needsHuman }),
            onDone: [
              { guard: 'mergedNow', target: '#task.merged', actions: 'prStepDone' },
              { guard: 'headMoved', target: 'checks', actions: 'prStepDone' },
              { guard: and(['prClosed', 'replanOnClose']), target: 'planning', actions: 'replan' },
              { guard: 'prClosed', target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } },
              // Policy said no (human review, auto-merge off, budget): wait for a human to merge or close it.
              { guard: 'mergeRefused', target: 'awaiting_human', actions: ['prStepDone', assign({ reason: ({ event }) => event.output.detail ?? 'merge refused by policy' })] },
              { target: 'rejected', actions: ['prStepDone', assign({ feedback: ({ event }) => `The merge failed (${event.output.outcome}): ${event.output.detail ?? ''}. Rebase onto the main branch and resolve the conflict.` })] },
            ],
            onError: [
              // A forge or network failure: no attempt spent; the step runs again after a backoff, then a human is asked.
              PR_OUTAGE('merging'),
              { guard: 'canRetryPr', target: 'pr_backoff', actions: [{ type: 'schedulePrRetry', params: ({ event }) => ({ step: 'merging', error: event.error }) }] },
              { target: 'awaiting_human', actions: [{ type: 'askHumanAfterPrFailures', params: ({ event }) => ({ step: 'merging', error: event.error }) }] },
            ],
          },
        },
        awaiting_human: {
          on: {
            'pr.merged': { target: '#task.merged' },
            'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }],
            // After failed PR steps a retry runs the failed step again (a review is never skipped); else it merges.
            'task.retry': [
              { guard: { type: 'resumeAt', params: 'pr_open' }, target: 'pr_open', actions: 'prStepDone' },
              { guard: { type: 'resumeAt', params: 'checks' }, target: 'checks', actions: 'prStepDone' },
              { guard: { type: 'resumeAt', params: 'reviewing' }, target: 'reviewing', actions: 'prStepDone' },
              { target: 'merging', actions: 'prStepDone' },
            ],
            'pr.checks_failed': { target: 'rejected', actions: assign({ feedback: ({ event }) => `CI failed: ${event.detail ?? ''}` }) },
            'pr.changes_requested': { target: 'rejected', actions: assign({ feedback: ({ event }) => `A reviewer requested changes:\n${event.detail ?? ''}` }) },
          },
        },
        // A rejection (checks, critic, empty branch, conflict) earns a bounded number of fix attempts.
        rejected: {
          always: [
            { guard: 'canFix', target: 'waiting', actions: ['prStepDone', assign({ fix: ({ context }) => context.fix + 1 })] },
            { target: '#task.abandoned', actions: { type: 'abandon', params: ({ context }) => ({ reason: `rejected after ${context.fix} fix attempts: ${(context.feedback ?? '').slice(0, 500)}` }) } },
          ],
        },
        backoff: {
          on: { 'task.retry': AFTER_BACKOFF },
          invoke: { id: 'sleep', src: 'sleep', input: ({ context }) => ({ until: context.until ?? 0 }), onDone: AFTER_BACKOFF },
        },
        hist: { type: 'history', history: 'deep' },
      },
    },
    held: {
      on: { 'engine.resumed': { target: 'live.hist' } },
    },
    merged: { type: 'final', entry: assign({ reason: null, until: null }) },
    abandoned: { type: 'final' },
  },
  output: ({ context }) => ({ id: context.id, costUsd: context.costUsd, reason: context.reason }),
});

export type TaskMachine = typeof taskMachine;
