import { Octokit } from 'octokit';
import { ConfigError } from '../../../src/errors.js';

export interface GitHubClientOptions {
  token: string;
  /** REST base URL; omit for api.github.com. */
  baseUrl?: string;
  /** Where octokit's warnings go (never the token: octokit does not log headers). */
  warn?: (message: string) => void;
  /** Retries of a rate-limited or failing request before the error reaches the caller. */
  maxRetries?: number;
  /**
   * GitHub asks integrators to space content-creating writes (≥1 s between writes, ≥3 s between
   * ones that notify). On by default; a test server that does not need it may turn it off.
   */
  pacing?: boolean;
  /** Base of the 5xx backoff: waits (n+1)² × this (default 1000 ms). */
  retryBaseMs?: number;
}

/** The variables a token is read from, in order: the adapter's `tokenEnv`, then GH_TOKEN, then GITHUB_TOKEN. */
export function tokenVariables(tokenEnv: string): string[] {
  return [...new Set([tokenEnv, 'GH_TOKEN', 'GITHUB_TOKEN'])];
}

/** The token the engine would use and the variable it came from (`oxi doctor` checks exactly this one). */
export function findToken(tokenEnv: string, env: Record<string, string | undefined> = process.env): { name: string; value: string } | undefined {
  for (const name of tokenVariables(tokenEnv)) {
    const value = env[name];
    if (value && value.trim()) return { name, value: value.trim() };
  }
  return undefined;
}

/** Resolves the token from the adapter's variable, then GH_TOKEN, then GITHUB_TOKEN. The value is never stored in config or logs. */
export function resolveToken(tokenEnv: string, env: NodeJS.ProcessEnv = process.env): string {
  const found = findToken(tokenEnv, env);
  if (found) return found.value;
  throw new ConfigError(`repo.forge: expected a GitHub token in $${tokenEnv} (or $GH_TOKEN / $GITHUB_TOKEN); none of them is set.`, {
    fix: `Export a token with "pull requests: write", "contents: write", "checks: read" and "statuses: read" permissions, e.g. export ${tokenEnv}=… before starting oxi.`,
  });
}

// A limiter group that never waits: throttling's pacing without the pause.
const unpaced = { key: () => ({ schedule: (_opts: unknown, fn: (...a: unknown[]) => unknown, ...args: unknown[]) => Promise.resolve(fn(...args)) }) };

/**
 * Octokit with its bundled throttling (primary and secondary rate limits, 403 or 429, honouring `retry-after`
 * and `x-ratelimit-reset`) and retry (5xx with quadratic backoff) plugins, bounded so nothing ever loops tight
 * or forever. Rate limits are throttling's alone: the retry plugin never touches a 403 or 429.
 */
export function makeOctokit(options: GitHubClientOptions): InstanceType<typeof Octokit> {
  const maxRetries = options.maxRetries ?? 3;
  const warn = options.warn ?? (() => {});
  const onLimit = (kind: string) => (retryAfter: number, opts: { method: string; url: string }, _o: unknown, retryCount: number) => {
    const again = retryCount < maxRetries;
    warn(`GitHub ${kind} on ${opts.method} ${opts.url}: ${again ? `retrying after ${retryAfter} s` : 'giving up'} (retry ${retryCount + 1} of ${maxRetries}).`);
    return again;
  };
  return new Octokit({
    auth: options.token,
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, '') } : {}),
    log: { debug: () => {}, info: () => {}, warn: (m: string) => warn(m), error: (m: string) => warn(m) },
    // 405 (not mergeable) and 409 (head moved) are answers, not glitches: retrying them only delays the caller.
    // 429 belongs to throttling (it honours retry-after / x-ratelimit-reset); the retry plugin runs first and
    // would otherwise retry a rate limit after its own ~1 s backoff.
    retry: { retries: maxRetries, doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 429, 451], ...(options.retryBaseMs !== undefined ? { retryAfterBaseValue: options.retryBaseMs } : {}) },
    throttle: {
      onRateLimit: onLimit('rate limit'),
      onSecondaryRateLimit: onLimit('secondary rate limit'),
      ...(options.pacing === false ? { write: unpaced, notifications: unpaced } : {}),
    } as never,
  });
}

export type GitHubClient = ReturnType<typeof makeOctokit>;
