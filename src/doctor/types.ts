/**
 * `oxi doctor` is a list of check providers. Each looks at one concern (toolchain, project,
 * hosts, agents, forge, notifications) and returns results; a provider never throws — a
 * problem is a `fail` result with the fix.
 */
import type { Adapter } from '../config/schema.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id for scripts, e.g. `node`, `config`, `host:build-1`, `agent:claude`. */
  id: string;
  status: CheckStatus;
  /** What was found, one line. */
  detail: string;
  /** How to fix it (warn / fail). */
  fix?: string;
}

export interface CommandResult {
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** ENOENT and friends: the program could not be started. */
  error?: string;
}

export interface DoctorContext {
  cwd: string;
  configPath?: string;
  /** --db given on the command line. */
  dbOverride?: string;
  /** The loaded adapter, once the `project` provider has loaded it. */
  adapter?: Adapter;
  env: Record<string, string | undefined>;
  home: string;
  /** `--live`: make one real call per agent backend to prove its credentials (costs a few tokens). */
  live?: boolean;
  /** Runs a program (argv form) with the given environment; never throws. */
  run(argv: readonly string[], options?: { env?: Record<string, string>; cwd?: string; timeoutMs?: number }): Promise<CommandResult>;
  fetch: typeof fetch;
  now(): number;
}

export interface CheckProvider {
  name: string;
  /** Providers that need the adapter are skipped (not failed) when it does not load. */
  needsAdapter: boolean;
  check(ctx: DoctorContext): Promise<CheckResult[]>;
}
