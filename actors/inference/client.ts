/**
 * The inference gateway: one short, non-streaming chat-completions call to an OpenAI-compatible endpoint
 * (a LiteLLM proxy, OpenRouter, xAI, a local server). No tools, no workspace, no subprocess.
 *
 * Every call: refused while the killswitch is set or once today's spend reached the daily hard cap;
 * the API key read from the environment variable inference.apiKeyEnv names at that moment (never kept,
 * logged or stored: an error body that echoes it is masked); bounded by inference.timeoutMs; its cost
 * (actors/inference/cost.ts) recorded as a `spend` row like an agent's, or, when the endpoint reports no
 * cost and the rate card cannot price it, a `budget.undercount_risk` row, never a silent zero.
 */
import type { Clock } from '../../src/clock.js';
import type { Adapter, InferenceSettings } from '../../src/config/schema.js';
import { spendBetween, dayStart, type LedgerEntry } from '../../src/store/ledger.js';
import { recordInferenceRows } from '../../src/store/inference.js';
import type { Db } from '../../src/store/db.js';
import {
  ConfigError,
  InferenceBudgetError,
  InferenceError,
  InferenceHttpError,
  InferenceKilledError,
  InferenceResponseError,
  InferenceTimeoutError,
} from '../../src/errors.js';
import { loadRateCard, type RateCard } from '../agents/codex.js';
import { routeOf, type InferenceRole } from '../agents/router.js';
import { costOf, type CostSource } from './cost.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface InferenceRequest {
  role: InferenceRole;
  messages: ChatMessage[];
  /** The task the call is about (its spend row names it). */
  task?: string;
  maxTokens?: number;
  signal?: AbortSignal;
}

export interface InferenceResult {
  text: string;
  model: string;
  costUsd: number;
  costSource: CostSource;
}

export interface InferenceClientOptions {
  adapter: Pick<Adapter, 'inference' | 'budget'>;
  db: Db;
  clock: Clock;
  /** Where the API key is read from at each call (the engine's environment). */
  env: Record<string, string | undefined>;
  killed?: () => boolean;
}

export interface InferenceClient {
  complete(request: InferenceRequest): Promise<InferenceResult>;
}

const BODY_TAIL = 300;

export function inferenceClient(options: InferenceClientOptions): InferenceClient {
  const settings = options.adapter.inference;
  if (!settings) throw new ConfigError('inference: expected an inference gateway ({ baseUrl, apiKeyEnv, models }), got none.', { fix: 'Add an `inference` block to the adapter (docs/agents.md).' });
  let card: RateCard | undefined;
  const rateCard = () => (card ??= loadRateCard(settings.rateCard, 'inference.rateCard'));
  if (settings.rateCard) rateCard(); // a bad rate card fails at start, not after a call was paid for
  const endpoint = `${settings.baseUrl.replace(/\/+$/, '')}/chat/completions`;

  return {
    async complete(request) {
      const model = routeOf(options.adapter as Adapter, request.role)?.model;
      if (!model) throw new ConfigError(`inference.models.${request.role}: expected the model of the ${request.role} role, got nothing.`, { fix: `Set inference.models.${request.role} (e.g. "x-ai/grok-4-fast").` });
      if (options.killed?.()) throw new InferenceKilledError(`No ${request.role} call made: the killswitch is set.`, { fix: '`oxi unkill` resumes; the call is made then.' });
      checkBudget(options);
      const key = apiKey(settings, options.env);
      const { response, text } = await post(endpoint, settings, key, { model, messages: request.messages, stream: false, ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}) }, request.signal);
      const masked = key ? text.split(key).join('***') : text;
      if (!response.ok) throw httpError(endpoint, model, response.status, masked);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      // Paid for once the endpoint answered 2xx, whatever the body: recorded before the body is judged.
      const cost = costOf({ header: response.headers.get('x-litellm-response-cost'), body, model, card: rateCard });
      recordInferenceRows(options.db, costRows(options.clock.now(), request, model, cost));
      const content = (body as { choices?: Array<{ message?: { content?: unknown } }> } | undefined)?.choices?.[0]?.message?.content;
      if (typeof content !== 'string') {
        throw new InferenceResponseError(
          `${endpoint} (model ${model}): expected a chat-completions JSON body with choices[0].message.content, got ${body === undefined ? 'no JSON' : 'JSON without it'}: ${tail(masked)}`,
          { fix: 'Check inference.baseUrl points at an OpenAI-compatible API (the path before /chat/completions, often ending in /v1).' },
        );
      }
      return { text: content.trim(), model, costUsd: cost.usd, costSource: cost.source };
    },
  };
}

/** Today's spend already at the hard cap: nothing more is spent today, this call included. */
function checkBudget(options: InferenceClientOptions): void {
  const now = options.clock.now();
  const spent = spendBetween(options.db, dayStart(now), now + 1);
  const cap = options.adapter.budget.dailyHardUsd;
  if (spent >= cap) {
    throw new InferenceBudgetError(`No inference call made: today's spend $${spent.toFixed(4)} reached the daily hard cap of $${cap}.`, {
      fix: 'Wait for the next UTC day, or raise budget.dailyHardUsd.',
    });
  }
}

function apiKey(settings: InferenceSettings, env: Record<string, string | undefined>): string | undefined {
  if (!settings.apiKeyEnv) return undefined;
  const key = env[settings.apiKeyEnv];
  if (!key) throw new ConfigError(`inference.apiKeyEnv: expected the environment variable ${settings.apiKeyEnv} to hold the API key, got it unset or empty.`, { fix: `Export ${settings.apiKeyEnv} in the engine's environment, or drop inference.apiKeyEnv for an endpoint that needs no key.` });
  return key;
}

async function post(endpoint: string, settings: InferenceSettings, key: string | undefined, body: unknown, signal?: AbortSignal): Promise<{ response: Response; text: string }> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), controller.abort()), settings.timeoutMs);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    return { response, text: await response.text() };
  } catch (error) {
    if (timedOut) throw new InferenceTimeoutError(`${endpoint}: no complete answer within ${settings.timeoutMs} ms (inference.timeoutMs); the call was aborted.`, { fix: 'Raise inference.timeoutMs, or check the endpoint is up.' });
    if (signal?.aborted) throw new InferenceError(`${endpoint}: the call was cancelled (the engine is stopping).`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new InferenceError(`${endpoint}: expected an HTTP answer, got ${cause?.code ?? cause?.message ?? (error as Error).message}.`, { fix: 'Check inference.baseUrl and that the endpoint is reachable from this machine.' });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function httpError(endpoint: string, model: string, status: number, body: string): InferenceHttpError {
  const fix =
    status === 401 || status === 403
      ? 'The endpoint refused the key: check the variable inference.apiKeyEnv names.'
      : status === 404
        ? 'Check inference.baseUrl (the path before /chat/completions) and the model name.'
        : status === 429
          ? 'Rate limited: the next call is made at the next stop.'
          : 'The endpoint failed; the next call is made at the next stop.';
  return new InferenceHttpError(`${endpoint} (model ${model}): expected HTTP 2xx, got ${status}: ${tail(body)}`, status, { fix });
}

function tail(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > BODY_TAIL ? `${t.slice(0, BODY_TAIL)}…` : t || '(empty body)';
}

/** A priced call is spend (like an agent's); an unpriced one is an undercount risk, said out loud. */
function costRows(at: number, request: InferenceRequest, model: string, cost: ReturnType<typeof costOf>): LedgerEntry[] {
  const base = { at, actor: 'inference', task: request.task ?? null };
  if (cost.source === 'none') {
    return [{ ...base, kind: 'budget.undercount_risk', payload: { source: 'inference', role: request.role, model, ...(request.task ? { task: request.task } : {}), tokens: cost.tokens, reason: 'the endpoint reported no cost (no x-litellm-response-cost header, no usage.total_cost) and inference.rateCard has no price for this model: counted as $0' } }];
  }
  return [{ ...base, kind: 'spend', payload: { usd: cost.usd, role: request.role, ...(request.task ? { task: request.task } : {}), model, costSource: cost.source } }];
}
