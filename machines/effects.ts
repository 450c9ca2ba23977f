import { fromPromise, type PromiseActorLogic } from 'xstate';
import type { OutageKind, OutcomeKind } from './outcome.js';

/**
 * The named effects the machines invoke, each declared once in `Effects` below with its input and
 * output. Machines only reference them by name; actors/index.ts supplies the implementations, a record
 * typed against `Effects` (a mismatch is a compile error), with `machine.provide({ actors })`.
 * The placeholders here fail loudly if one is missing.
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

/** What started a promote run: its schedule, a merge, or an operator (`oxi promote --now`). */
export type PromoteTrigger = 'schedule' | 'after-merge' | 'manual';

export interface PromoteHistoryInput {
  /** The recipe's name (its repository, or `default`). */
  name: string;
}

/** What the ledger says about a recipe's runs: when it last ran (or was armed) and the merges since. */
export interface PromoteHistoryOutput {
  lastRunAt: number;
  /** The newest merge row the last run (or the arming) had seen. */
  mergeCursor: number;
  /** The newest merge row now. */
  latestMerge: number;
  ledger?: LedgerNote[];
}

export interface PromoteInput {
  name: string;
  trigger: PromoteTrigger;
}

export interface PromoteOutput {
  ok: boolean;
  /** Null when the command never started or was stopped by a signal. */
  exitCode: number | null;
  durationMs: number;
  /** One line: what happened (`exit 0`, `exit 2`, `timed out after 30 min`, `could not start: ENOENT`). */
  summary: string;
  /** The last ≤ 4 KiB of its output, secrets redacted. */
  outputTail: string;
}

/** What every task step is given: the task and the attempt it runs in. */
export type PlanInput = TaskRef & { title: string; description: string };
export type ClaimInput = TaskRef & { filesTouched: string[] };
export type ProvisionInput = TaskRef & { host: string; baseSha: string | null };
export type RunAgentInput = TaskRef & { host: string; worktree: string; branch: string; plan: Plan; feedback: string | null; fix: number; title: string; description: string };
export type ShipInput = TaskRef & { host: string; worktree: string; branch: string; baseSha: string | null; filesTouched: string[] };
export type OpenPrInput = TaskRef & { branch: string; title: string; plan: Plan; headSha: string };
export type ChecksInput = TaskRef & { pr: number; worktree: string };
export type CritiqueInput = TaskRef & { pr: number; plan: Plan; title: string; baseSha: string | null; headSha: string | null };
export type MergeInput = TaskRef & { pr: number; headSha: string; baseSha: string | null; title: string; needsHuman: boolean };
export interface SleepInput {
  until: number;
}
export interface ProbeInput {
  host: string;
}
export interface PrScanInput {
  readOnly: boolean;
}
export interface NotifyInput {
  kind: string;
  title: string;
  body?: string;
  severity?: 'info' | 'warn' | 'error';
}
/** Background scans take nothing: they read the store. */
export type NoInput = Record<string, never>;

/**
 * Every effect, declared once: its input and output. `src: 'plan'` in a machine resolves here; the
 * path after "Implemented by" names the function in actors/ that actors/index.ts binds to it.
 */
export interface Effects {
  /** Asks the planner for a plan and validates it (a schema). Implemented by actors/effects/task-effects.ts `plan`. */
  plan: { input: PlanInput; output: PlanOutput };
  /** Asks the dispatch pool for a host slot. Implemented by actors/effects/task-effects.ts `claimSlot`. */
  claimSlot: { input: ClaimInput; output: ClaimOutput };
  /** Creates the task's branch and worktree on its host. Implemented by actors/effects/task-effects.ts `provision` (behind actors/effects/launch-guard.ts). */
  provision: { input: ProvisionInput; output: ProvisionOutput };
  /** Runs the coding agent in its sandbox and watches it. Implemented by actors/effects/run-agent.ts `runAgent` (behind actors/effects/launch-guard.ts). */
  runAgent: { input: RunAgentInput; output: WorkOutput };
  /** Checks the branch and pushes it. Implemented by actors/effects/task-effects.ts `ship`. */
  ship: { input: ShipInput; output: ShipOutput };
  /** Opens (or finds) the task's PR. Implemented by actors/effects/task-effects.ts `openPr`. */
  openPr: { input: OpenPrInput; output: OpenPrOutput };
  /** Waits for the PR's checks. Implemented by actors/effects/task-effects.ts `runChecks`. */
  runChecks: { input: ChecksInput; output: ChecksOutput };
  /** Asks the critic for a verdict on the PR. Implemented by actors/effects/task-effects.ts `critique`. */
  critique: { input: CritiqueInput; output: CritiqueOutput };
  /** Merges the PR when policy allows. Implemented by actors/effects/task-effects.ts `merge`. */
  merge: { input: MergeInput; output: MergeOutput };
  /** Waits until an absolute time on the injected clock. Implemented by actors/effects/background.ts `sleepUntil`. */
  sleep: { input: SleepInput; output: { at: number } };
  /** Probes a host's capacity. Implemented by actors/effects/background.ts `probeHost`. */
  probeHost: { input: ProbeInput; output: ProbeOutput };
  /** Reads the roadmap into tasks. Implemented by actors/effects/background.ts `seedRoadmap`. */
  seedRoadmap: { input: NoInput; output: SeedOutput };
  /** Finds stalled workers whose process is gone. Implemented by actors/effects/background.ts `makeReapScan`. */
  reapScan: { input: NoInput; output: ReapOutput };
  /** Reconciles PR state from the forge. Implemented by actors/effects/pr-scan.ts `makePrScan`. */
  prScan: { input: PrScanInput; output: PrScanOutput };
  /** Measures engine-wide silence. Implemented by actors/effects/background.ts `deadmanCheck`. */
  deadmanCheck: { input: NoInput; output: DeadmanOutput };
  /** Sends a notification. Implemented in actors/index.ts (the notifier, behind actors/agents/credentials.ts `oauthNotifyGate`). */
  notify: { input: NotifyInput; output: void };
  /** Reads the agents' credential expiry. Implemented by actors/agents/credentials.ts `readCredentials`. */
  readCredentials: { input: NoInput; output: CredentialsOutput };
  /** Reads a promote recipe's last run and the merges since (arming it on first sight). Implemented by actors/effects/promote.ts `promoteHistory`. */
  promoteHistory: { input: PromoteHistoryInput; output: PromoteHistoryOutput };
  /** Runs a promote recipe's command once, recording it in the ledger. Implemented by actors/effects/promote.ts `promote`. */
  promote: { input: PromoteInput; output: PromoteOutput };
}

export type EffectName = keyof Effects;
export type EffectInput<K extends EffectName> = Effects[K]['input'];
export type EffectOutput<K extends EffectName> = Effects[K]['output'];
/** The actor logic of an effect: what `machine.provide({ actors })` takes for it. */
export type EffectActor<K extends EffectName> = PromiseActorLogic<EffectOutput<K>, EffectInput<K>>;
export type EffectActors = { [K in keyof Effects]: EffectActor<K> };

/** Every effect name once, in declaration order. */
export const EFFECT_NAMES = [
  // The task's steps, then the background actors' and the engine's.
  'plan', 'claimSlot', 'provision', 'runAgent', 'ship', 'openPr', 'runChecks', 'critique', 'merge',
  'sleep', 'probeHost', 'seedRoadmap', 'reapScan', 'prScan', 'deadmanCheck', 'notify', 'readCredentials', 'promoteHistory', 'promote',
] as const satisfies readonly EffectName[];
// A name declared in `Effects` but missing from the list above fails to compile here.
const everyEffectListed: Exclude<EffectName, (typeof EFFECT_NAMES)[number]> extends never ? true : never = true;
void everyEffectListed;

function placeholder<K extends EffectName>(name: K): EffectActor<K> {
  return fromPromise<EffectOutput<K>, EffectInput<K>>(async () => {
    throw new Error(`The effect "${name}" was not provided: build the machine with actors/ (makeEffects).`);
  });
}

/** Stand-ins for `setup({ actors })`: typed by `Effects`, so go-to-definition from `src` reaches the declaration above. */
export const effectPlaceholders = Object.fromEntries(EFFECT_NAMES.map((name) => [name, placeholder(name)])) as EffectActors;
