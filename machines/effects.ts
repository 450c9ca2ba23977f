import { fromPromise } from 'xstate';
import type { OutageKind, OutcomeKind } from './outcome.js';

/**
 * The named effects the machines invoke, with their input and output shapes.
 * Machines only reference them by name; actors/ supplies the implementations with
 * `machine.provide({ actors })`. The placeholders here fail loudly if one is missing.
 */

/** A ledger entry an effect asks to be written in the same transaction as the transition it causes. */
export interface LedgerNote {
  kind: string;
  payload?: Record<string, unknown>;
}

export interface Plan {
  files_touched: string[];
  tests: string[];
  dependencies: string[];
  risk: string;
  summary?: string;
}

export interface TaskRef {
  taskId: string;
  attempt: number;
}

/** What an agent step met that is nobody's fault in the task: waited out, never spending an attempt. */
export interface OutageFacts {
  outage?: OutageKind;
  /** When to try again at the earliest (epoch ms): the provider's reset time, or a closed gate's next probe. */
  resetAt?: number;
  /** The next run takes another route (backend / model): no need to wait. */
  fallback?: boolean;
}

export type PlanOutput =
  | { ok: true; plan: Plan; costUsd: number; ledger?: LedgerNote[] }
  | ({ ok: false; error: string; costUsd: number; ledger?: LedgerNote[] } & OutageFacts);

export type ClaimOutput =
  | { granted: true; host: string; ledger?: LedgerNote[] }
  | { granted: false; reason: 'overlap' | 'budget' | 'soft_budget' | 'oauth' | 'draining'; until: number; ledger?: LedgerNote[] };

export interface ProvisionOutput {
  branch: string;
  worktree: string;
  /** Full sha the task's change is measured from (recorded once, kept across sessions). */
  baseSha: string;
  ledger?: LedgerNote[];
}

export interface WorkOutput extends OutageFacts {
  /** ok: the agent finished its turn; lost: the worker vanished without a result (reaped); else its classification. */
  outcome: Exclude<OutcomeKind, 'rejected'> | 'lost';
  error?: string;
  costUsd: number;
  backend: string;
  ledger?: LedgerNote[];
}

export interface ShipOutput {
  headSha: string;
  /** Where the head meets main: the base its change is reviewed and merged against (moves when the worker merged main). */
  baseSha?: string;
  empty: boolean;
  refused?: string;
  ledger?: LedgerNote[];
}

export interface OpenPrOutput {
  pr: number;
  merged: boolean;
  /** The task's PR was closed unmerged while it worked on a fix: no new PR was opened. */
  closed?: boolean;
  ledger?: LedgerNote[];
}

export interface ChecksOutput {
  state: 'success' | 'failure';
  summary: string;
  ledger?: LedgerNote[];
}

export type CritiqueOutput =
  | {
      verdict: 'approve' | 'reject';
      reasons: string[];
      costUsd: number;
      /** A sensitive path forces human review: never auto-merged. */
      needsHuman?: boolean;
      ledger?: LedgerNote[];
    }
  /** No verdict: the critic met an outage. Never a rejection: the critic runs again on the same head. */
  | ({ verdict: 'none'; error: string; costUsd: number; ledger?: LedgerNote[] } & OutageFacts);

export interface MergeOutput {
  outcome: 'merged' | 'already_merged' | 'head_moved' | 'conflict' | 'closed' | 'refused';
  detail?: string;
  ledger?: LedgerNote[];
}

export interface ProbeOutput {
  capacity: number;
  inUse: number;
}

export interface SeedOutput {
  spawn: TaskBoot[];
  ledger?: LedgerNote[];
  /** Live tasks whose item was closed at the roadmap source (an issue closed by a human): sent `task.abandon`. */
  abandon?: Array<{ taskId: string; reason: string }>;
}

/** What the engine needs to spawn (or restore) a task actor. */
export interface TaskBoot {
  id: string;
  title: string;
  description: string;
  tier: number;
  attempt: number;
  /** A persisted task snapshot to resume from. */
  restore?: unknown;
}

export interface ReapOutput {
  reap: Array<{ taskId: string; reason: string }>;
  ledger?: LedgerNote[];
}

export interface PrScanOutput {
  events: Array<{ taskId: string; type: 'pr.merged' | 'pr.closed' | 'pr.checks_failed' | 'pr.changes_requested'; detail?: string; ledger?: LedgerNote[] }>;
  ledger?: LedgerNote[];
}

export interface DeadmanOutput {
  silent: boolean;
  inFlight: number;
  quietMs: number;
}

export interface CredentialsOutput {
  state: 'ok' | 'expiring' | 'expired';
  detail?: string;
}

function placeholder<O, I>(name: string) {
  return fromPromise<O, I>(async () => {
    throw new Error(`The effect "${name}" was not provided: build the machine with actors/ (makeEffects).`);
  });
}

export const effectPlaceholders = {
  plan: placeholder<PlanOutput, TaskRef & { title: string; description: string }>('plan'),
  claimSlot: placeholder<ClaimOutput, TaskRef & { filesTouched: string[] }>('claimSlot'),
  provision: placeholder<ProvisionOutput, TaskRef & { host: string; baseSha: string | null }>('provision'),
  runAgent: placeholder<
    WorkOutput,
    TaskRef & { host: string; worktree: string; branch: string; plan: Plan; feedback: string | null; fix: number; title: string; description: string }
  >('runAgent'),
  ship: placeholder<ShipOutput, TaskRef & { host: string; worktree: string; branch: string; baseSha: string | null; filesTouched: string[] }>('ship'),
  openPr: placeholder<OpenPrOutput, TaskRef & { branch: string; title: string; plan: Plan; headSha: string }>('openPr'),
  runChecks: placeholder<ChecksOutput, TaskRef & { pr: number; worktree: string }>('runChecks'),
  critique: placeholder<CritiqueOutput, TaskRef & { pr: number; plan: Plan; title: string; baseSha: string | null; headSha: string | null }>('critique'),
  merge: placeholder<MergeOutput, TaskRef & { pr: number; headSha: string; baseSha: string | null; title: string; needsHuman: boolean }>('merge'),
  sleep: placeholder<{ at: number }, { until: number }>('sleep'),
  probeHost: placeholder<ProbeOutput, { host: string }>('probeHost'),
  seedRoadmap: placeholder<SeedOutput, Record<string, never>>('seedRoadmap'),
  reapScan: placeholder<ReapOutput, Record<string, never>>('reapScan'),
  prScan: placeholder<PrScanOutput, { readOnly: boolean }>('prScan'),
  deadmanCheck: placeholder<DeadmanOutput, Record<string, never>>('deadmanCheck'),
  notify: placeholder<void, { kind: string; title: string; body?: string; severity?: 'info' | 'warn' | 'error' }>('notify'),
  readCredentials: placeholder<CredentialsOutput, Record<string, never>>('readCredentials'),
};

export type EffectName = keyof typeof effectPlaceholders;
export const EFFECT_NAMES = Object.keys(effectPlaceholders) as EffectName[];
