/**
 * Every outcome of an agent step (and of a dispatch), classified once, as data — in the spirit of
 * Temporal's RetryPolicy / nonRetryable. The task machine reads the policy table; the stream parser,
 * the waited runs, the worker watcher and the forge classify with the functions below. Pure: no I/O,
 * no clock (relative waits are returned relative; the caller adds its own now).
 */

export const OUTCOME_KINDS = ['ok', 'rejected', 'failed', 'rate_limited', 'overloaded', 'auth', 'network', 'stalled', 'timed_out', 'environment'] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

/** The kinds that are nobody's fault in the task: they never spend an attempt. */
export const OUTAGE_KINDS = ['rate_limited', 'overloaded', 'auth', 'network', 'stalled', 'timed_out', 'environment'] as const;
export type OutageKind = (typeof OUTAGE_KINDS)[number];

export interface KindPolicy {
  /** A new attempt is spent (counted against maxAttempts). */
  spendsAttempt: boolean;
  /** The role's next route (another backend or model) is tried before waiting on this one. */
  fallback: boolean;
  /** Feeds the backend's agent gate (a persistent rate limit or bad credentials closes it). */
  gates: boolean;
}

/** The retry policy of each kind. `rejected` spends a fix attempt (the machine's rejected state), never an attempt. */
export const OUTCOME_POLICY: Readonly<Record<OutcomeKind, KindPolicy>> = {
  ok: { spendsAttempt: false, fallback: false, gates: false },
  rejected: { spendsAttempt: false, fallback: false, gates: false },
  failed: { spendsAttempt: true, fallback: false, gates: false },
  rate_limited: { spendsAttempt: false, fallback: true, gates: true },
  overloaded: { spendsAttempt: false, fallback: true, gates: false },
  auth: { spendsAttempt: false, fallback: true, gates: true },
  network: { spendsAttempt: false, fallback: true, gates: false },
  stalled: { spendsAttempt: false, fallback: true, gates: false },
  timed_out: { spendsAttempt: false, fallback: true, gates: false },
  // The machine's own trouble (disk, descriptors): another backend would meet the same full disk.
  environment: { spendsAttempt: false, fallback: false, gates: false },
};

/**
 * The kinds that are the machine's or its host's trouble (a full disk, a host out of reach): met at a
 * launch (provisioning, the worker) they wait for a slot again, bounded, rather than for the provider.
 */
export const LAUNCH_TROUBLE_KINDS = ['environment', 'network'] as const;

export function isLaunchTrouble(kind: unknown): kind is (typeof LAUNCH_TROUBLE_KINDS)[number] {
  return typeof kind === 'string' && (LAUNCH_TROUBLE_KINDS as readonly string[]).includes(kind);
}

export function isOutage(kind: unknown): kind is OutageKind {
  return typeof kind === 'string' && (OUTAGE_KINDS as readonly string[]).includes(kind);
}

/** A classified failure: its kind and, when the error said so, when to try again. */
export interface Classification {
  kind: OutcomeKind;
  /** Absolute time (epoch ms) the provider said the limit resets. */
  resetAt?: number;
  /** Relative wait the provider asked for ("try again in 2 hours"), when it gave no absolute time. */
  retryAfterMs?: number;
}

export interface ApiErrorFacts {
  /** The HTTP status the CLI reported (claude `api_error_status`, a codex "unexpected status 429"). */
  status?: number;
  /** Everything the CLI said about the failure (messages, errors[], the assistant's `error` code). */
  text: string;
}

const AUTH_TEXT = /authenticat|unauthori[sz]ed|invalid[ _-]?(x-)?api[ _-]?key|oauth token (has )?expired|token (has )?expired|forbidden|billing_error|credit balance is too low|permission_error|please run \/login/i;
const RATE_TEXT = /usage limit|rate[\s_-]?limit|too many requests|quota exceeded|exceeded your current quota|hit your usage limit/i;
const OVERLOAD_TEXT = /overloaded|server_error|internal server error|service unavailable|bad gateway|gateway time-?out|api_error\b/i;
const NETWORK_TEXT = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|fetch failed|socket hang up|connection (error|refused|reset)|network error|stream disconnected|error sending request/i;
/** A status named in the message: "API Error: 529", "unexpected status 401 Unauthorized", "HTTP 503". */
const STATUS_IN_TEXT = /(?:api error:?|status:?|http)\s*(\d{3})\b/i;

/** The kind an HTTP status alone decides (undefined: the status says nothing about an outage). */
export function kindOfStatus(status: number | undefined): OutageKind | undefined {
  if (status === undefined) return undefined;
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 529 || (status >= 500 && status <= 599)) return 'overloaded';
  if (status === 408) return 'network';
  return undefined;
}

/** An agent CLI's failed API call (or failed run), read as a kind. Anything not an outage is `failed`. */
export function classifyApiError(facts: ApiErrorFacts): Classification {
  const inText = STATUS_IN_TEXT.exec(facts.text);
  const status = facts.status ?? (inText ? Number(inText[1]) : undefined);
  const reset = resetOf(facts.text);
  const byStatus = kindOfStatus(status);
  // Why text before a 5xx status: a usage limit is sometimes reported with a generic status.
  const kind: OutcomeKind =
    byStatus === 'rate_limited' || byStatus === 'auth'
      ? byStatus
      : RATE_TEXT.test(facts.text)
        ? 'rate_limited'
        : AUTH_TEXT.test(facts.text)
          ? 'auth'
          : byStatus ?? (OVERLOAD_TEXT.test(facts.text) ? 'overloaded' : NETWORK_TEXT.test(facts.text) ? 'network' : 'failed');
  return kind === 'rate_limited' ? { kind, ...reset } : { kind };
}

/**
 * A process that ended without a terminal event: our stall / wall-clock kill, or a SIGTERM from outside
 * (a service stop) — an interruption, retried on the next route; any other exit is the agent's failure.
 */
export function classifyExit(exit: { exitCode?: number | null; signal?: string | null; timedOut?: 'wall' | 'stall' | null }): OutcomeKind {
  if (exit.timedOut === 'stall') return 'stalled';
  if (exit.timedOut === 'wall') return 'timed_out';
  if (exit.signal === 'SIGTERM' || exit.exitCode === 143) return 'timed_out';
  return 'failed';
}

const UNIT_MS: Record<string, number> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000 };

/**
 * When a limit resets, as the provider wrote it: claude's `usage limit reached|<epoch s>`, an ISO time
 * ("resets at 2026-12-06T10:00:00Z"), or a relative one ("try again in 2 hours 5 minutes", "retry after 30 s").
 */
export function resetOf(text: string): { resetAt?: number; retryAfterMs?: number } {
  const epoch = /limit reached\|(\d{10,13})\b/i.exec(text);
  if (epoch) return { resetAt: epoch[1].length === 13 ? Number(epoch[1]) : Number(epoch[1]) * 1000 };
  const iso = /reset[s]?(?: at)?:?\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))/i.exec(text);
  if (iso && Number.isFinite(Date.parse(iso[1]))) return { resetAt: Date.parse(iso[1]) };
  const rel = /(?:try again|retry|resets?)\s+(?:in|after)\s+((?:\d+(?:\.\d+)?\s*[a-z]+[\s,]*(?:and\s+)?)+)/i.exec(text);
  if (rel) {
    let ms = 0;
    for (const [, n, unit] of rel[1].matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/gi)) {
      const key = unit.toLowerCase().replace(/s$/, '');
      const per = UNIT_MS[key];
      if (per) ms += Number(n) * per;
    }
    if (ms > 0) return { retryAfterMs: Math.round(ms) };
  }
  return {};
}

/** The absolute reset time of a classification, given now; undefined when the provider named none. */
export function resetTimeOf(c: { resetAt?: number; retryAfterMs?: number }, now: number): number | undefined {
  if (c.resetAt !== undefined) return c.resetAt;
  return c.retryAfterMs !== undefined ? now + c.retryAfterMs : undefined;
}
