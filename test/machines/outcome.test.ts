/**
 * The outcome classification as a table: what each real error shape (claude stream-json, codex exec --json,
 * exits) is classified as, and what each kind's policy is. One row per case the engine meets.
 */
import { describe, expect, it } from 'vitest';
import { classifyApiError, classifyExit, isOutage, OUTAGE_KINDS, OUTCOME_KINDS, OUTCOME_POLICY, resetOf, resetTimeOf } from '../../machines/outcome.js';

const table: Array<[string, { status?: number; text: string }, string]> = [
  ['claude 401 (api_error_status)', { status: 401, text: 'Failed to authenticate. API Error: 401 mock 401 authentication_failed' }, 'auth'],
  ['claude 403 forbidden', { status: 403, text: 'API Error: 403 forbidden' }, 'auth'],
  ['claude expired OAuth token', { text: 'OAuth token has expired. Please obtain a new token or refresh your existing token.' }, 'auth'],
  ['claude billing', { text: 'Credit balance is too low billing_error' }, 'auth'],
  ['claude 429', { status: 429, text: 'API Error: 429 rate_limit_error' }, 'rate_limited'],
  ['claude usage limit (no status)', { text: 'Claude AI usage limit reached|1767225600' }, 'rate_limited'],
  ['claude assistant error code only', { text: 'API Error rate_limit' }, 'rate_limited'],
  ['claude 529', { status: 529, text: 'API Error: 529 overloaded' }, 'overloaded'],
  ['claude 500', { status: 500, text: 'API Error: 500 Internal server error' }, 'overloaded'],
  ['claude 503 in text only', { text: 'API Error: 503 service unavailable' }, 'overloaded'],
  ['claude connection error', { text: 'API Error: Connection error. (fetch failed ECONNREFUSED)' }, 'network'],
  ['codex 401', { text: 'unexpected status 401 Unauthorized: mock 401, url: http://127.0.0.1:8788/v1/responses' }, 'auth'],
  ['codex 429 after retries', { text: 'exceeded retry limit, last status: 429 Too Many Requests' }, 'rate_limited'],
  ['codex usage limit', { text: "You've hit your usage limit. Upgrade to Pro or try again in 2 hours 5 minutes." }, 'rate_limited'],
  ['codex 500', { text: 'unexpected status 500 Internal Server Error: boom' }, 'overloaded'],
  ['codex stream disconnected', { text: 'stream disconnected before completion: error sending request' }, 'network'],
  ['claude max turns', { text: 'Reached maximum number of turns (1)' }, 'failed'],
  ['claude max budget', { text: 'Reached maximum budget ($0.0001)' }, 'failed'],
  ['claude 400 invalid request', { status: 400, text: 'API Error: 400 invalid_request_error: prompt is too long' }, 'failed'],
  ['unknown session', { text: 'No conversation found with session ID: c35b6d90' }, 'failed'],
];

describe('classifyApiError: every real error shape, once', () => {
  it.each(table)('%s', (_name, facts, kind) => {
    expect(classifyApiError(facts).kind).toBe(kind);
  });
});

describe('reset times', () => {
  it('reads claude\'s epoch, an ISO time and a relative wait; none otherwise', () => {
    expect(classifyApiError({ text: 'Claude AI usage limit reached|1767225600' })).toEqual({ kind: 'rate_limited', resetAt: 1767225600_000 });
    expect(resetOf('rate limited, resets at 2026-12-06T10:00:00Z')).toEqual({ resetAt: Date.parse('2026-12-06T10:00:00Z') });
    expect(resetOf('try again in 2 hours 5 minutes')).toEqual({ retryAfterMs: 2 * 3_600_000 + 5 * 60_000 });
    expect(resetOf('Please retry after 30 seconds')).toEqual({ retryAfterMs: 30_000 });
    expect(resetOf('API Error: 429')).toEqual({});
    expect(resetTimeOf({ retryAfterMs: 5000 }, 1000)).toBe(6000);
    expect(resetTimeOf({ resetAt: 42, retryAfterMs: 5000 }, 1000)).toBe(42);
    expect(resetTimeOf({}, 1000)).toBeUndefined();
    // A reset time only belongs to a rate limit.
    expect(classifyApiError({ status: 401, text: 'try again in 5 minutes' })).toEqual({ kind: 'auth' });
  });
});

describe('classifyExit', () => {
  it.each([
    [{ timedOut: 'stall' as const, exitCode: 143 }, 'stalled'],
    [{ timedOut: 'wall' as const }, 'timed_out'],
    [{ signal: 'SIGTERM' }, 'timed_out'],
    [{ exitCode: 143 }, 'timed_out'],
    [{ exitCode: 1 }, 'failed'],
    [{ exitCode: 137, signal: 'SIGKILL' }, 'failed'],
  ])('%o → %s', (exit, kind) => expect(classifyExit(exit)).toBe(kind));
});

describe('the policy table', () => {
  it('no outage kind spends an attempt; only `failed` does; rate limits and auth feed the gates', () => {
    for (const kind of OUTCOME_KINDS) expect(OUTCOME_POLICY[kind].spendsAttempt, kind).toBe(kind === 'failed');
    for (const kind of OUTAGE_KINDS) expect(isOutage(kind)).toBe(true);
    for (const kind of ['ok', 'rejected', 'failed', 'lost', undefined]) expect(isOutage(kind)).toBe(false);
    expect(OUTCOME_KINDS.filter((k) => OUTCOME_POLICY[k].gates)).toEqual(['rate_limited', 'auth']);
    // A full disk is the machine's: another backend would meet it too.
    expect(OUTCOME_POLICY.environment.fallback).toBe(false);
    expect(OUTCOME_POLICY.stalled.fallback).toBe(true);
  });
});
