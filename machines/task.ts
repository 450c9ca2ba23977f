import { and, assign, not } from 'xstate';
import type { ClaimOutput, PlanOutput } from './effects.js';
import { nowOf } from './time.js';
import type { PrStep, TaskContext } from './task-context.js';
import { base, PR_STEP_NAMES, taskSetup, type Verdict } from './task-rules.js';

export * from './task-context.js';

/**
 * One roadmap item from plan to merge: this file is the chart, each transition written once. The
 * guards and actions it names are in machines/task-rules.ts; the effects it invokes are declared
 * in machines/effects.ts. Every wait is an invoked `sleep` with an absolute deadline in context, so
 * a restored task still wakes up; `held` + deep history lets a killed task resume where it was.
 */

/** What a transition's reason is built from: the context and the event that caused it. */
type Args = { context: TaskContext; event: unknown };
type Reason = (args: Args) => string;

const errorOf = (event: unknown) => String((event as { error?: unknown }).error);
/** A failed PR step's error: the effect's thrown error, or the error a verdict-less critique reported. */
const prErrorOf = (event: unknown) => {
  const e = event as { error?: unknown; output?: { error?: unknown } };
  return 'output' in e ? e.output?.error : e.error;
};
const costIf = (cost: boolean) => (cost ? (['addCost'] as const) : ([] as const));

/** A failure the task is to blame for: the next attempt after a backoff, or abandoned past maxAttempts. */
const retryOrAbandon = (reason: Reason, cost = false) =>
  [
    { guard: 'canRetry', target: 'backoff', actions: [...costIf(cost), { type: 'scheduleRetry', params: (a: Args) => ({ reason: reason(a) }) }] },
    { target: '#task.abandoned', actions: [...costIf(cost), { type: 'abandon', params: (a: Args) => ({ reason: reason(a) }) }] },
  ] as const;

/** Steps before the PR, and how each is named where it waits out an outage and where it failed. */
type Step = 'planning' | 'provisioning' | 'working' | 'shipping';

/**
 * The retry table of the steps before the PR, driven by the outcome classification (machines/outcome.ts):
 * `launch`: the machine's or its host's trouble waits for a slot again, uncounted within MAX_ENV_WAITS;
 * `outage`: an agent or forge outage waits in `backoff`, spending nothing (null: the step meets none);
 * anything else is the task's failure (`failed` names it): retryOrAbandon.
 */
const STEP_RETRY: Record<Step, { launch: boolean; outage: string | null; failed: string }> = {
  planning: { launch: false, outage: 'the planner', failed: 'planner failed' },
  provisioning: { launch: true, outage: 'provisioning', failed: 'provisioning failed' },
  working: { launch: true, outage: 'the worker', failed: 'agent error' },
  shipping: { launch: false, outage: null, failed: 'ship failed' },
};

/** A step before the PR met an outage (an agent's rate limit, overload, bad key, stall; the forge's refused token): wait it out in `backoff`. */
const stepOutage = (step: Step) => {
  const { launch, outage } = STEP_RETRY[step];
  return outage === null ? [] : ([{ guard: { type: 'outage', params: { launch } }, target: 'backoff', actions: ['addCost', { type: 'waitOutOutage', params: { step: outage } }] }] as const);
};

/** A step's effect threw: classified by the table above. */
const stepFailed = (step: Step) =>
  [
    ...(STEP_RETRY[step].launch ? ([{ guard: 'envError', target: 'backoff', actions: 'waitOutEnvironment' }] as const) : []),
    ...stepOutage(step),
    ...retryOrAbandon(({ event }) => `${STEP_RETRY[step].failed}: ${errorOf(event)}`),
  ] as const;

/** A step's effect answered but not with success (an invalid plan, a failed agent): outage or the task's failure. */
const stepUnsuccessful = (step: Step, reason: Reason) => [...stepOutage(step), ...retryOrAbandon(reason, true)] as const;

/**
 * A PR step failed: an outage waits in `pr_backoff` and runs the same step again, uncounted; a forge or
 * network failure spends no attempt either, but counts towards maxPrFailures, past which a human is asked.
 * `noVerdict`: the failure is a critique that came back without a verdict.
 */
const prStepFailed = (step: PrStep, opts: { cost?: boolean; noVerdict?: boolean } = {}) => {
  const cost = costIf(opts.cost ?? false);
  const params = ({ event }: Args) => ({ step, error: prErrorOf(event) });
  return [
    { guard: 'outage', target: 'pr_backoff', actions: ['addCost', { type: 'waitOutOutage', params: { step: PR_STEP_NAMES[step], prStep: step } }] },
    { guard: opts.noVerdict ? and(['noVerdict', 'canRetryPr']) : 'canRetryPr', target: 'pr_backoff', actions: [...cost, { type: 'schedulePrRetry', params }] },
    { ...(opts.noVerdict ? ({ guard: 'noVerdict' } as const) : {}), target: 'awaiting_human', actions: [...cost, { type: 'askHumanAfterPrFailures', params }] },
  ] as const;
};

/** The PR was closed unmerged (seen by prWatcher, or found by a step): plan afresh if the policy says so, else abandon. */
const closedUnmerged = (seen?: 'prClosedMeanwhile' | 'prClosed') =>
  [
    { guard: seen ? and([seen, 'replanOnClose']) : 'replanOnClose', target: 'planning', actions: 'replan' },
    { ...(seen ? { guard: seen } : {}), target: '#task.abandoned', actions: { type: 'abandon', params: { reason: 'PR closed unmerged' } } },
  ] as const;

const PR_MERGED = { target: '#task.merged' } as const;
const PR_CLOSED = closedUnmerged();
/** While the task owns an open PR, a human may merge or close it at any moment. */
const WATCHING_PR = { 'pr.merged': PR_MERGED, 'pr.closed': PR_CLOSED } as const;

/** Back to the PR step that failed (`resumeAt`), else to `otherwise`. */
const resumeFailedStep = (action: 'clearWait' | 'prStepDone', steps: PrStep[], otherwise: PrStep) => [
  ...steps.map((step) => ({ guard: { type: 'resumeAt', params: step }, target: step, actions: action }) as const),
  { target: otherwise, actions: action },
];
/** Out of `pr_backoff` (its wait over, or a human's retry). */
const RESUME_AFTER_PR_BACKOFF = resumeFailedStep('clearWait', ['pr_open', 'checks', 'merging'], 'reviewing');

/** Out of `backoff`: a task with a validated plan waits for a slot again; one without plans again (never a worker without a plan). */
const AFTER_BACKOFF = [
  { guard: 'hasPlan', target: 'waiting', actions: 'clearWait' },
  { target: 'planning', actions: 'clearWait' },
] as const;

/** An invoked wait until the absolute deadline in context. */
const sleepThen = <T>(onDone: T) => ({ id: 'sleep', src: 'sleep', input: ({ context }: { context: TaskContext }) => ({ until: context.until ?? 0 }), onDone }) as const;

export const taskMachine = taskSetup.createMachine({
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
              ...stepUnsuccessful('planning', ({ event }) => `plan invalid: ${(event as { output: { error: string } }).output.error}`),
            ],
            onError: stepFailed('planning'),
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
          invoke: sleepThen('waiting'),
        },
        provisioning: {
          invoke: {
            id: 'provision',
            src: 'provision',
            input: ({ context }) => ({ ...base(context), host: context.host!, baseSha: context.baseSha }),
            onDone: { target: 'working', actions: assign(({ event }) => ({ branch: event.output.branch, worktree: event.output.worktree, baseSha: event.output.baseSha })) },
            onError: stepFailed('provisioning'),
          },
        },
        working: {
          on: { 'task.reap': retryOrAbandon(({ event }) => `reaped: ${(event as { reason: string }).reason}`) },
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
              ...stepUnsuccessful('working', ({ event }) => {
                const o = (event as { output: { outcome: string; error?: string } }).output;
                return `agent ${o.outcome}: ${o.error ?? ''}`;
              }),
            ],
            onError: stepFailed('working'),
          },
        },
        // A visible step of its own so the ledger shows the reap; leaves at once.
        reaped: {
          always: retryOrAbandon(({ context }) => context.reason ?? 'reaped'),
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
            onError: stepFailed('shipping'),
          },
        },
        pr_open: {
          on: WATCHING_PR,
          invoke: {
            id: 'openPr',
            src: 'openPr',
            input: ({ context }) => ({ ...base(context), branch: context.branch!, title: context.title, plan: context.plan!, headSha: context.headSha! }),
            onDone: [
              { guard: 'prAlreadyMerged', target: '#task.merged', actions: assign({ pr: ({ event }) => event.output.pr }) },
              // Closed by a human while the task was away from its PR (a fix loop, a backoff): as if seen closed.
              ...closedUnmerged('prClosedMeanwhile'),
              { target: 'checks', actions: ['prStepDone', assign({ pr: ({ event }) => event.output.pr })] },
            ],
            onError: prStepFailed('pr_open'),
          },
        },
        checks: {
          on: WATCHING_PR,
          invoke: {
            id: 'runChecks',
            src: 'runChecks',
            input: ({ context }) => ({ ...base(context), pr: context.pr!, worktree: context.worktree! }),
            onDone: [
              { guard: 'checksGreen', target: 'reviewing', actions: 'prStepDone' },
              { target: 'rejected', actions: ['prStepDone', assign({ feedback: ({ event }) => `Checks failed:\n${event.output.summary}` })] },
            ],
            onError: prStepFailed('checks'),
          },
        },
        reviewing: {
          on: WATCHING_PR,
          invoke: {
            id: 'critique',
            src: 'critique',
            input: ({ context }) => ({ ...base(context), pr: context.pr!, plan: context.plan!, title: context.title, baseSha: context.baseSha, headSha: context.headSha }),
            // A verdict (even one made of garbage: actors/effects/task-effects.ts critique) is an answer: approve or reject.
            // No verdict past the outage bound (a critic that keeps stalling): a PR-step failure, bounded, then a human; never a rejection.
            onDone: [
              ...prStepFailed('reviewing', { cost: true, noVerdict: true }),
              { guard: 'approved', target: 'merging', actions: ['addCost', 'prStepDone', assign({ needsHuman: ({ event }) => !!(event.output as Verdict).needsHuman })] },
              { target: 'rejected', actions: ['addCost', 'prStepDone', assign({ feedback: ({ event }) => `The critic rejected the change:\n- ${(event.output as Verdict).reasons.join('\n- ')}` })] },
            ],
            // No verdict: the review machinery failed (forge 5xx, network). Not the change's fault: review again, bounded.
            onError: prStepFailed('reviewing', { cost: true }),
          },
        },
        // Waiting out a failed PR step (forge or network trouble); the PR stays open and watched. Resumes that step.
        pr_backoff: {
          on: { ...WATCHING_PR, 'task.retry': RESUME_AFTER_PR_BACKOFF },
          invoke: sleepThen(RESUME_AFTER_PR_BACKOFF),
        },
        merging: {
          on: { 'pr.closed': PR_CLOSED },
          invoke: {
            id: 'merge',
            src: 'merge',
            input: ({ context }) => ({ ...base(context), pr: context.pr!, headSha: context.headSha!, baseSha: context.baseSha, title: context.title, needsHuman: context.needsHuman }),
            onDone: [
              { guard: 'mergedNow', target: '#task.merged', actions: 'prStepDone' },
              { guard: 'headMoved', target: 'checks', actions: 'prStepDone' },
              ...closedUnmerged('prClosed'),
              // Policy said no (human review, auto-merge off, budget): wait for a human to merge or close it.
              { guard: 'mergeRefused', target: 'awaiting_human', actions: ['prStepDone', assign({ reason: ({ event }) => event.output.detail ?? 'merge refused by policy' })] },
              { target: 'rejected', actions: ['prStepDone', assign({ feedback: ({ event }) => `The merge failed (${event.output.outcome}): ${event.output.detail ?? ''}. Rebase onto the main branch and resolve the conflict.` })] },
            ],
            onError: prStepFailed('merging'),
          },
        },
        awaiting_human: {
          on: {
            ...WATCHING_PR,
            // After failed PR steps a retry runs the failed step again (a review is never skipped); else it merges.
            'task.retry': resumeFailedStep('prStepDone', ['pr_open', 'checks', 'reviewing'], 'merging'),
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
          invoke: sleepThen(AFTER_BACKOFF),
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
