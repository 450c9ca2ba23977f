import type { LedgerNote, Plan } from './effects.js';
import type { KillEvent } from './kill.js';

/** The task machine's vocabulary: its policy, context and events, and the state groups the runtime reads. */

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

/** States that hold a host slot: the dispatch pool releases the lease when a task leaves them. */
export const SLOT_STATES = ['provisioning', 'working', 'shipping'] as const;
/** States in which the task owns an open PR: never reaped. */
export const PR_STATES = ['pr_open', 'checks', 'reviewing', 'pr_backoff', 'merging'] as const;

export const TERMINAL_STATES = ['merged', 'abandoned'] as const;
