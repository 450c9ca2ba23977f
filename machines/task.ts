import { and, assign, setup, type DoneActorEvent } from 'xstate';
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
  /** Consecutive failures of the review machinery (forge, network) retried before a human is asked. */
  maxReviewFailures?: number;
}

/** Default bound on consecutive review failures: with the backoff doubling, about an hour of retries at a 2-minute base. */
export const MAX_REVIEW_FAILURES = 5;

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
  costUsd: number;
  fix: number;
  feedback: string | null;
  needsHuman: boolean;
  /** Consecutive failures of the review itself (not rejections); reset by any verdict. */
  reviewFailures: number;
  reason: string | null;
  /** Absolute deadline of the current wait (backoff / deferral): survives a restore. */
  until: number | null;
  deferredAt: number | null;
}

export type TaskEvent =
  | KillEvent
  | { type: 'task.reap'; reason: string; ledger?: LedgerNote[] }
  | { type: 'task.retry'; by?: string }
  | { type: 'pr.merged'; detail?: string; ledger?: LedgerNote[] }
  | { type: 'pr.closed'; detail?: string; ledger?: LedgerNote[] }
  | { type: 'pr.checks_failed'; detail?: string; ledger?: LedgerNote[] }
  | { type: 'pr.changes_requested'; detail?: string; ledger?: LedgerNote[] };

/** The output of the effect whose completion caused this transition. */
const out = <T>(event: unknown): T => (event as DoneActorEvent<T>).output;

/** States that hold a host slot: the dispatch pool releases the lease when a task leaves them. */
export const SLOT_STATES = ['provisioning', 'working', 'shipping'] as const;
/** States in which the task owns an open PR: never reaped. */
export const PR_STATES = ['pr_open', 'checks', 'reviewing', 'review_backoff', 'merging'] as const;
export const TERMINAL_STATES = ['merged', 'abandoned'] as const;

const base = (context: TaskContext) => ({ taskId: context.id, attempt: context.attempt });

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
    // The effects mark an environment error (full disk, no descriptors) as such: it is not the task's doing.
    envError: ({ event }) => (event as { error?: { environment?: unknown } }).error?.environment === true,
    canRetryReview: ({ context }) => (context.reviewFailures ?? 0) + 1 < (context.policy.maxReviewFailures ?? MAX_REVIEW_FAILURES),
    // Sent to a human by failing reviews: a retry reviews again, it must not merge unreviewed.
    reviewPending: ({ context }) => (context.reviewFailures ?? 0) > 0,
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
    scheduleWait: assign(({ context, system }, params: { reason: string }) => ({
      reason: params.reason,
      until: nowOf(system) + backoffMs(context.attempt + 1, context.policy.backoffBaseMs, context.policy.backoffMaxMs),
    })),
    /** The review machinery failed (forge 5xx, network): review again after a backoff; no fix attempt is spent. */
    scheduleReview: assign(({ context, system }, params: { reason: string }) => {
      const reviewFailures = (context.reviewFailures ?? 0) + 1;
      return { reviewFailures, reason: params.reason, until: nowOf(system) + backoffMs(reviewFailures, context.policy.backoffBaseMs, context.policy.backoffMaxMs) };
    }),
    abandon: assign((_, params: { reason: string }) => ({ reason: params.reason, until: null })),
    /** The PR was closed unmerged and the policy says plan again: a new attempt from scratch. */
    replan: assign(({ context }) => ({ attempt: context.attempt + 1, fix: 0, feedback: null, plan: null, pr: null, until: null, reason: 'PR closed unmerged: planning again' })),
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
    costUsd: 0,
    fix: 0,
    feedback: null,
    needsHuman: false,
    reviewFailures: 0,
    reason: null,
    until: null,
    deferredAt: null,
  }),
  invoke: { id: 'kill', src: 'killListener' },
  initial: 'live',
  states: {
    live: {
      initial: 'planning',
      on: { 'engine.killed': { target: 'held' } },
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
                actions: ['addCost', assign({ plan: ({ event }) => (event.output as Extract<PlanOutput, { ok: true }>).plan })],
              },
              { guard: 'canRetry', target: 'backoff', actions: ['addCost', { type: 'scheduleRetry', params: ({ event }) => ({ reason: `plan invalid: ${(event.output as { error: string }).error}` }) }] },
              { target: '#task.abandoned', actions: ['addCost', { type: 'abandon', params: ({ event }) => ({ reason: `plan invalid: ${(event.output as { error: string }).error}` }) }] },
            ],
            onError: [
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
            input: ({ context }) => ({ ...base(context), host: context.host! }),
            onDone: { target: 'working', actions: assign(({ event }) => ({ branch: event.output.branch, worktree: event.output.worktree })) },
            onError: [
              { guard: 'envError', target: 'backoff', actions: { type: 'scheduleWait', params: ({ event }) => ({ reason: `dispatch paused by the environment: ${String(event.error)}` }) } },
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
              { guard: 'agentOk', target: 'shipping', actions: 'addCost' },
              { guard: 'agentLost', target: 'reaped', actions: ['addCost', assign({ reason: ({ event }) => `reaped: ${event.output.error ?? 'worker lost'}` })] },
              { guard: 'canRetry', target: 'backoff', actions: ['addCost', { type: 'scheduleRetry', params: ({ event }) => ({ reason: `agent ${event.output.outcome}: ${event.output.error ?? ''}` }) }] },
              { target: '#task.abandoned', actions: ['addCost', { type: 'abandon', params: ({ event }) => ({ reason: `agent ${event.output.outcome}: ${event.output.error ?? ''}` }) }] },
            ],
            onError: [
              { guard: 'envError', target: 'backoff', actions: { type: 'scheduleWait', params: ({ event }) => ({ reason: `dispatch paused by the environment: ${String(event.error)}` }) } },
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
            input: ({ context }) => ({ ...base(context), host: context.host!, worktree: context.worktree!, branch: context.branch!, filesTouched: context.plan?.files_touched ?? [] }),
            onDone: [
              {
                guard: 'shipEmpty',
                target: 'rejected',
                actions: assign(({ event }) => ({ feedback: event.output.refused ?? 'The branch has no commits: make the change and commit it.' })),
              },
              { target: 'pr_open', actions: assign({ headSha: ({ event }) => event.output.headSha }) },
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
              { target: 'checks', actions: assign({ pr: ({ event }) => event.output.pr }) },
            ],
            onError: [
              { guard: 'canRetry', target: 'backoff', actions: { type: 'scheduleRetry', params: ({ event }) => ({ reason: `open PR failed: ${String(event.error)}` }) } },
              { target: '#task.abandoned', actions: { type: 'abandon', params: ({ event }) => ({ reason: `open PR failed: ${String(event.error)}` }) } },
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
              { guard: 'checksGreen', target: 'reviewing' },
              { target: 'rejected', actions: assign({ feedback: ({ event }) => `Checks failed:\n${event.output.summary}` }) },
            ],
            onError: [
              { guard: 'canRetry', target: 'backoff', actions: { type: 'scheduleRetry', params: ({ event }) => ({ reason: `checks errored: ${String(event.error)}` }) } },
              { target: '#task.abandoned', actions: { type: 'abandon', params: ({ event }) => ({ reason: `checks errored: ${String(event.error)}` }) } },
            ],
          },
        },
        reviewing: {
          on: { 'pr.merged': { target: '#task.merged' }, 'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }] },
          invoke: {
            id: 'critique',
            src: 'critique',
            input: ({ context }) => ({ ...base(context), pr: context.pr!, plan: context.plan!, title: context.title }),
            // A verdict (even one made of garbage: actors/effects/task-effects.ts critique) is an answer: approve or reject.
            onDone: [
              { guard: 'approved', target: 'merging', actions: ['addCost', assign({ reviewFailures: 0, needsHuman: ({ event }) => !!event.output.needsHuman })] },
              { target: 'rejected', actions: ['addCost', assign({ reviewFailures: 0, feedback: ({ event }) => `The critic rejected the change:\n- ${event.output.reasons.join('\n- ')}` })] },
            ],
            // No verdict: the review machinery failed (forge 5xx, network). Not the change's fault: review again, bounded.
            onError: [
              { guard: 'canRetryReview', target: 'review_backoff', actions: ['addCost', { type: 'scheduleReview', params: ({ event }) => ({ reason: `review failed, retrying: ${String(event.error)}` }) }] },
              {
                target: 'awaiting_human',
                actions: ['addCost', assign(({ context, event }) => ({
                  reviewFailures: (context.reviewFailures ?? 0) + 1,
                  until: null,
                  reason: `the review failed ${(context.reviewFailures ?? 0) + 1} times in a row (last: ${String(event.error).slice(0, 300)}): merge or close the PR by hand, or send task.retry to review it again`,
                }))],
              },
            ],
          },
        },
        // Waiting out a failed review (forge or network trouble); the PR stays open and watched.
        review_backoff: {
          on: {
            'pr.merged': { target: '#task.merged' },
            'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }],
            'task.retry': { target: 'reviewing', actions: assign({ until: null }) },
          },
          invoke: { id: 'sleep', src: 'sleep', input: ({ context }) => ({ until: context.until ?? 0 }), onDone: { target: 'reviewing', actions: assign({ until: null }) } },
        },
        merging: {
          on: { 'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }] },
          invoke: {
            id: 'merge',
            src: 'merge',
            input: ({ context }) => ({ ...base(context), pr: context.pr!, headSha: context.headSha!, title: context.title, needsHuman: context.needsHuman }),
            onDone: [
              { guard: 'mergedNow', target: '#task.merged' },
              { guard: 'headMoved', target: 'checks' },
              { guard: and(['prClosed', 'replanOnClose']), target: 'planning', actions: 'replan' },
              { guard: 'prClosed', target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } },
              // Policy said no (human review, auto-merge off, budget): wait for a human to merge or close it.
              { guard: 'mergeRefused', target: 'awaiting_human', actions: assign({ reason: ({ event }) => event.output.detail ?? 'merge refused by policy' }) },
              { target: 'rejected', actions: assign({ feedback: ({ event }) => `The merge failed (${event.output.outcome}): ${event.output.detail ?? ''}. Rebase onto the main branch and resolve the conflict.` }) },
            ],
            onError: [
              { guard: 'canRetry', target: 'backoff', actions: { type: 'scheduleRetry', params: ({ event }) => ({ reason: `merge errored: ${String(event.error)}` }) } },
              { target: '#task.abandoned', actions: { type: 'abandon', params: ({ event }) => ({ reason: `merge errored: ${String(event.error)}` }) } },
            ],
          },
        },
        awaiting_human: {
          on: {
            'pr.merged': { target: '#task.merged' },
            'pr.closed': [{ guard: 'replanOnClose', target: 'planning', actions: 'replan' }, { target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } }],
            'task.retry': [{ guard: 'reviewPending', target: 'reviewing', actions: assign({ reviewFailures: 0 }) }, { target: 'merging' }],
            'pr.checks_failed': { target: 'rejected', actions: assign({ feedback: ({ event }) => `CI failed: ${event.detail ?? ''}` }) },
            'pr.changes_requested': { target: 'rejected', actions: assign({ feedback: ({ event }) => `A reviewer requested changes:\n${event.detail ?? ''}` }) },
          },
        },
        // A rejection (checks, critic, empty branch, conflict) earns a bounded number of fix attempts.
        rejected: {
          always: [
            { guard: 'canFix', target: 'waiting', actions: assign({ fix: ({ context }) => context.fix + 1, reviewFailures: 0 }) },
            { target: '#task.abandoned', actions: { type: 'abandon', params: ({ context }) => ({ reason: `rejected after ${context.fix} fix attempts: ${(context.feedback ?? '').slice(0, 500)}` }) } },
          ],
        },
        backoff: {
          on: { 'task.retry': { target: 'waiting', actions: assign({ until: null }) } },
          invoke: { id: 'sleep', src: 'sleep', input: ({ context }) => ({ until: context.until ?? 0 }), onDone: { target: 'waiting', actions: assign({ until: null }) } },
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
