/**
 * The ports of ARCHITECTURE §5: what the effect actors in actors/ talk to.
 * Each has an embedded default (local host, local forge, scripted agent, log notifier)
 * and may have real implementations (SSH, GitHub, claude/codex).
 */

import type { OutcomeKind } from '../machines/outcome.js';

/** Result of running a program: argv-form only, never a shell string. */
export interface ExecResult {
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  cwd?: string;
  /** The whole environment of the child (already whitelisted by the caller). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface SpawnDetachedOptions extends ExecOptions {
  /** stdout of the process goes to this file (NDJSON stream for agents). */
  stdoutFile: string;
  stderrFile: string;
  /** Written with the pid as soon as the process exists, before spawnDetached resolves: a crash in between leaves it adoptable. */
  pidFile?: string;
}

export interface HostProbe {
  cpus: number;
  load5: number;
  freeMemMb: number;
  totalMemMb: number;
}

/**
 * Host transport: where worktrees live and agents run. Every method that cannot reach its host (or cannot
 * tell what happened there) throws a `HostUnreachableError`: the engine reads it as "unknown" and waits,
 * where any other error fails the step, and a failed worker step is retried with a new worker.
 */
export interface HostTransport {
  readonly name: string;
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a process in its own process group that outlives the engine; returns pid (= pgid). */
  spawnDetached(argv: readonly string[], options: SpawnDetachedOptions): Promise<{ pid: number }>;
  isAlive(pid: number): Promise<boolean>;
  /** Signals the whole process group: TERM, then KILL after graceMs. */
  killGroup(pid: number, graceMs?: number): Promise<void>;
  probe(): Promise<HostProbe>;
  readFile(path: string): Promise<string | undefined>;
  writeFile(path: string, content: string): Promise<void>;
  /** Size of a file in bytes (undefined: no such file); hosts without it are read with a local stat. */
  fileSize?(path: string): Promise<number | undefined>;
  /** The next command dials for real instead of answering from a cached connect error (paced callers only: the probe, recorded kills). */
  redial?(): void;
  close?(): Promise<void>;
}

export interface PullRequest {
  number: number;
  task: string;
  branch: string;
  base: string;
  title: string;
  headSha: string;
  state: 'open' | 'merged' | 'closed';
  checks: 'pending' | 'success' | 'failure';
  checksSha?: string;
  mergeSha?: string;
  url?: string;
  /** GitHub: null while the forge is still computing it (ask again later). */
  mergeable?: boolean | null;
  /** GitHub: auto-merge is armed on the PR. */
  autoMerge?: boolean;
}

export interface OpenPrInput {
  task: string;
  branch: string;
  base: string;
  title: string;
  body: string;
  headSha: string;
}

export interface MergeResult {
  /** merged: this call merged it; already_merged: it was merged before (by anyone). */
  /** blocked: the forge refuses for a reason no rebase fixes (branch protection, required review). */
  outcome: 'merged' | 'already_merged' | 'head_moved' | 'conflict' | 'closed' | 'blocked';
  mergeSha?: string;
  detail?: string;
}

/** armed / already_armed: the forge merges when its requirements are met; clean: nothing to wait for, merge directly. */
export interface AutoMergeResult {
  outcome: 'armed' | 'already_armed' | 'clean' | 'merged' | 'unavailable';
  detail?: string;
}

export interface ChecksResult {
  state: 'success' | 'failure';
  sha: string;
  log: string;
}

/** Forge: pull requests, checks, merge. Every operation is idempotent and reconciles first. */
export interface Forge {
  readonly kind: string;
  /** Returns the branch's existing PR (open or merged) if there is one, else opens it. */
  openPr(input: OpenPrInput): Promise<PullRequest & { adopted: boolean }>;
  getPr(number: number): Promise<PullRequest | undefined>;
  findPrForBranch(branch: string): Promise<PullRequest | undefined>;
  listOpenPrs(): Promise<Array<PullRequest & { files: string[] }>>;
  /** Checks for the PR's head; `worktree` is where the local forge runs the adapter's command. */
  runChecks(pr: PullRequest, worktree: string, signal?: AbortSignal): Promise<ChecksResult>;
  /** Squash merge guarded by the head sha; a PR already merged is a no-op success. */
  merge(pr: PullRequest, expectedHeadSha: string, message: string): Promise<MergeResult>;
  comment(prNumber: number, body: string): Promise<void>;
  deleteBranch(branch: string): Promise<void>;
  // Capabilities of remote forges (GitHub); the local forge has no use for them.
  /** Brings the main clone's base branch up to the remote's, so new task branches start from it. */
  syncBase?(): Promise<void>;
  /** Arms the forge's own auto-merge (squash) for the PR's current head. */
  armAutoMerge?(pr: PullRequest): Promise<AutoMergeResult>;
  /** Turns the forge's auto-merge off (armed for an earlier head, it would merge a later one unreviewed). Not armed is a no-op. */
  disarmAutoMerge?(pr: PullRequest): Promise<void>;
  /** The CI state of the PR's head right now, without waiting. */
  readChecks?(pr: PullRequest): Promise<{ state: 'pending' | 'success' | 'failure'; sha: string; log: string }>;
  /** A review requesting changes on the PR's current head, as feedback text; undefined if none. */
  changesRequested?(pr: PullRequest): Promise<string | undefined>;
}

export interface AgentUsage {
  costUsd: number;
  inputTokens?: number;
  outputTokens?: number;
  /** codex: reasoning tokens its session file reported for the run (priced on top of outputTokens when codex says they are not in it). */
  reasoningTokens?: number;
  turns?: number;
  /** Why costUsd may be lower than what the run really cost (recorded as a `budget.undercount_risk` ledger row, never silently). */
  undercount?: string;
}

/** What an agent session ended with. */
export interface AgentOutcome {
  ok: boolean;
  /** How a failed session is classified (machines/outcome.ts: failed, or an outage kind); absent when ok. */
  kind?: OutcomeKind;
  error?: string;
  /** A rate limit's reset time (epoch ms) or requested wait, when the provider gave one. */
  resetAt?: number;
  retryAfterMs?: number;
  /** The final text (planner: plan JSON; critic: verdict JSON; worker: summary). */
  text: string;
  usage: AgentUsage;
  sessionId?: string;
  backend: string;
  model?: string;
  /** Tool calls the agent was refused (claude `permission_denials`). */
  permissionDenials?: number;
}

export interface Notifier {
  notify(message: { kind: string; title: string; body?: string; severity?: 'info' | 'warn' | 'error' }): Promise<void>;
}
