/**
 * JSON POST with retries: 429, 5xx and network errors are retried with exponential backoff
 * (p-retry); any other 4xx is final (retrying a rejected payload cannot help). The URL is a
 * secret (Slack's carries its token), so it never appears in errors or logs.
 */
import pRetry, { AbortError } from 'p-retry';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** Per-request timeout. */
  requestTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, minTimeoutMs: 1000, maxTimeoutMs: 30_000, requestTimeoutMs: 10_000 };

export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  status?: number;
  /** Why it failed, without the URL. */
  error?: string;
}

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export async function postJson(url: string, body: unknown, policy: RetryPolicy = DEFAULT_RETRY): Promise<DeliveryResult> {
  let attempts = 0;
  let status: number | undefined;
  try {
    await pRetry(
      async () => {
        attempts++;
        let res: Response;
        try {
          res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'oxi-notifier' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(policy.requestTimeoutMs),
          });
        } catch (error) {
          // fetch's message can include the URL: keep only the cause's code.
          const cause = (error as { cause?: { code?: string } }).cause;
          throw new Error(`network error${cause?.code ? ` (${cause.code})` : (error as Error).name === 'TimeoutError' ? ' (timeout)' : ''}`);
        }
        status = res.status;
        await res.arrayBuffer().catch(() => undefined); // drain so the socket is reused
        if (res.ok) return;
        if (res.status === 429 || res.status >= 500) throw new HttpStatusError(res.status);
        throw new AbortError(new HttpStatusError(res.status));
      },
      { retries: policy.retries, minTimeout: policy.minTimeoutMs, maxTimeout: policy.maxTimeoutMs, factor: 2, randomize: true },
    );
    return { ok: true, attempts, status };
  } catch (error) {
    return { ok: false, attempts, status, error: (error as Error).message };
  }
}
