/**
 * Named errors. Every message says what was expected, what came, and how to fix it.
 * Only the CLI entry point turns these into exit codes.
 */
import type { OutageKind } from '../machines/outcome.js';

export class OxiError extends Error {
  /** A short hint on how to fix the problem, printed under the message by the CLI. */
  readonly fix?: string;
  constructor(message: string, options: { fix?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.fix = options.fix;
  }
}

export class ConfigError extends OxiError {}
export class RoadmapError extends OxiError {}
export class StoreError extends OxiError {}
export class DaemonError extends OxiError {}
export class UsageError extends OxiError {}
/** A finished task's agent logs were removed by the janitor (engine.janitor.logsKeepMs): nothing is left to show. */
export class LogsRemovedError extends OxiError {
  constructor(message: string, readonly removedAt: number, options: { fix?: string } = {}) {
    super(message, options);
  }
}
export class DashboardError extends OxiError {}
export class GitError extends OxiError {}
export class ForgeError extends OxiError {}
/**
 * Every route of an agent role is behind a closed gate (a persistent rate limit or bad credentials):
 * no session was started. The step waits until the gate's next probe, spending nothing.
 */
export class AgentGateClosedError extends OxiError {
  readonly outage: OutageKind;
  constructor(message: string, outage: OutageKind, readonly resetAt: number, options: { fix?: string } = {}) {
    super(message, options);
    this.outage = outage;
  }
}
/** The forge refused our credentials (401/403), or its gate is closed because it did: PR steps wait, uncounted. */
export class ForgeAuthError extends ForgeError {
  readonly outage = 'auth' as const;
  constructor(message: string, readonly resetAt?: number, options: { fix?: string; cause?: unknown } = {}) {
    super(message, options);
  }
}
/** An SSH host could not be reached, or the connection broke: the work there is in an unknown state, not failed. */
export class HostUnreachableError extends OxiError {
  /** The host's trouble, not the task's: a dispatch that meets it spends no attempt (the task machine bounds how often). */
  readonly outage: OutageKind = 'network';
}
/** The SSH connection is up but a channel misbehaved (refused, closed without an exit status, no answer in time): outcome unknown, like an unreachable host. */
export class RemoteChannelError extends HostUnreachableError {}
/**
 * An SSH host presented a key that is unknown or differs from known_hosts: never accepted silently.
 * Until the key is sorted out the host is out of reach, so its work is in an unknown state (never reaped).
 */
export class HostKeyError extends HostUnreachableError {}
/**
 * The machine is out of something (disk space, quota, a writable file system, file descriptors) while a
 * task was being dispatched. Not the task's fault: it waits for a slot again without spending an attempt.
 */
export class EnvironmentError extends OxiError {
  /** What the task machine looks at (machines/outcome.ts; machines stay free of this import). */
  readonly outage: OutageKind = 'environment';
  constructor(
    message: string,
    readonly code: string,
    options: { fix?: string; cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/**
 * An effect that failed after it had done something worth keeping (an agent ran and spent, a verdict was
 * given or posted): it carries that spend and those ledger rows, so the task's cost and the day's ledger
 * still count them and a retry can reconcile (the persister records `ledger` from error events too).
 */
export class SpentThenFailedError extends OxiError {
  constructor(
    readonly original: unknown,
    readonly costUsd: number,
    readonly ledger: Array<{ kind: string; payload?: Record<string, unknown> }>,
  ) {
    const message = original instanceof Error ? original.message : String(original);
    super(costUsd > 0 ? `${message} (after spending $${costUsd.toFixed(4)}, which is recorded)` : message, { cause: original });
  }
}

/**
 * `agents.sandbox.required` is set and the host has no working sandbox: no agent starts there. The host's
 * trouble, not the task's: the task waits (no attempt spent) until a sandbox is available.
 */
export class SandboxUnavailableError extends OxiError {
  readonly outage: OutageKind = 'environment';
}

/**
 * The workspace setup (workspace.setup) failed: an environment error of the task, not its fault the first time,
 * so it waits without spending an attempt; the same setup failing again on a clean retry spends one.
 */
export class SetupFailedError extends OxiError {
  readonly outage: OutageKind = 'environment';
}

/** `oxi say`: the message cannot reach an agent (no live one, the engine is killed, the backend cannot take messages). */
export class SayRefusedError extends OxiError {}

/** Preflight found something that would fail every task (no git repository, no checks program, no roadmap items…): nothing was dispatched. */
export class PreflightError extends OxiError {}

/** A call to the inference gateway (inference.baseUrl) failed: the endpoint, the model and what came back are in the message. */
export class InferenceError extends OxiError {}
/** The endpoint answered with an HTTP error status (401 bad key, 404 wrong baseUrl or model, 429 rate limit, 5xx). */
export class InferenceHttpError extends InferenceError {
  constructor(message: string, readonly status: number, options: { fix?: string } = {}) {
    super(message, options);
  }
}
/** No complete answer within inference.timeoutMs: the call was aborted (nothing is recorded for it but this error). */
export class InferenceTimeoutError extends InferenceError {}
/** The endpoint answered 2xx with something that is not an OpenAI chat-completions JSON body. */
export class InferenceResponseError extends InferenceError {}
/** The daily hard cap is reached: no call was made (it would spend past the cap). */
export class InferenceBudgetError extends InferenceError {}
/** The killswitch is set: no call was made. */
export class InferenceKilledError extends InferenceError {}
