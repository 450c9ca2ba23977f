/**
 * The inference gateway against a real chat-completions server on loopback, in each cost convention:
 * the cost recorded per call, an unpriced call recorded as an undercount, the budget and the killswitch
 * checked before any request, named errors for timeouts, HTTP errors and bad bodies, the key never stored.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inferenceClient, type InferenceClientOptions } from '../../../actors/inference/client.js';
import { systemClock } from '../../../src/clock.js';
import { ConfigError, InferenceBudgetError, InferenceHttpError, InferenceKilledError, InferenceResponseError, InferenceTimeoutError } from '../../../src/errors.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { appendEvent, listEvents } from '../../../src/store/ledger.js';
import { startInferenceServer, type ChatReply, type CostConvention, type InferenceServer } from '../../helpers/inference-server.js';

const KEY = 'sk-or-test-0123456789abcdef-never-stored';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function setup(convention: CostConvention, o: { costUsd?: number; reply?: (r: never) => ChatReply; timeoutMs?: number; rateCard?: Record<string, unknown>; killed?: () => boolean; hardUsd?: number; env?: Record<string, string> } = {}) {
  const server: InferenceServer = await startInferenceServer({ convention, costUsd: o.costUsd, reply: o.reply as never });
  cleanups.push(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'oxi-inference-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const db: Db = openDb(join(dir, 'oxi.db'));
  cleanups.push(() => db.close());
  let rateCard: string | undefined;
  if (o.rateCard) writeFileSync((rateCard = join(dir, 'rates.json')), JSON.stringify(o.rateCard));
  const adapter: InferenceClientOptions['adapter'] = {
    inference: { baseUrl: server.url, apiKeyEnv: 'TEST_INFERENCE_KEY', models: { triage: 'x-ai/grok-4-fast' }, timeoutMs: o.timeoutMs ?? 10_000, ...(rateCard ? { rateCard } : {}) },
    budget: { perTaskUsd: 2, dailySoftUsd: 5, dailyHardUsd: o.hardUsd ?? 10 },
  };
  const client = inferenceClient({ adapter, db, clock: systemClock, env: o.env ?? { TEST_INFERENCE_KEY: KEY }, killed: o.killed });
  const ask = () => client.complete({ role: 'triage', task: 'T0-1', messages: [{ role: 'user', content: 'why did T0-1 stop?' }] });
  const rows = (kind: string) => listEvents(db).filter((r) => r.kind === kind).map((r) => ({ ...r, payload: JSON.parse(r.payload) }));
  return { server, db, dir, client, ask, rows };
}

describe('inference gateway: cost per call', () => {
  it('LiteLLM: the x-litellm-response-cost header is the spend; the request is non-streaming, with the key as a bearer token', async () => {
    const t = await setup('litellm', { costUsd: 0.0042 });
    const out = await t.ask();
    expect(out).toMatchObject({ model: 'x-ai/grok-4-fast', costUsd: 0.0042, costSource: 'x-litellm-response-cost' });
    expect(out.text).toMatch(/critic rejected/);
    expect(t.server.requests).toHaveLength(1);
    expect(t.server.requests[0]).toMatchObject({ path: '/v1/chat/completions', authorization: `Bearer ${KEY}` });
    expect(t.server.requests[0].body).toMatchObject({ model: 'x-ai/grok-4-fast', stream: false });
    expect(t.rows('spend')).toEqual([expect.objectContaining({ actor: 'inference', task: 'T0-1', payload: { usd: 0.0042, role: 'triage', task: 'T0-1', model: 'x-ai/grok-4-fast', costSource: 'x-litellm-response-cost' } })]);
    expect(t.rows('budget.undercount_risk')).toEqual([]);
  });

  it('OpenRouter: usage.total_cost is the spend', async () => {
    const t = await setup('openrouter', { costUsd: 0.0031 });
    expect(await t.ask()).toMatchObject({ costUsd: 0.0031, costSource: 'usage.total_cost' });
    expect(t.rows('spend').map((r) => r.payload.usd)).toEqual([0.0031]);
  });

  it('xAI-style (tokens only): priced by inference.rateCard', async () => {
    const t = await setup('none', { rateCard: { 'x-ai/grok-4-fast': { input: 200, output: 500 } } });
    const out = await t.ask();
    const { prompt_tokens: input, completion_tokens: output } = { prompt_tokens: Math.ceil('why did T0-1 stop?'.length / 4), completion_tokens: Math.ceil(out.text.length / 4) };
    expect(out.costSource).toBe('rate-card');
    expect(out.costUsd).toBeCloseTo((input * 200 + output * 500) / 1_000_000, 6);
    expect(t.rows('spend').map((r) => r.payload.costSource)).toEqual(['rate-card']);
  });

  it('no cost source at all: an undercount row, never a silent zero spend', async () => {
    const t = await setup('none');
    expect(await t.ask()).toMatchObject({ costUsd: 0, costSource: 'none' });
    expect(t.rows('spend')).toEqual([]);
    const [row] = t.rows('budget.undercount_risk');
    expect(row).toMatchObject({ actor: 'inference', task: 'T0-1', payload: { source: 'inference', role: 'triage', model: 'x-ai/grok-4-fast' } });
    expect(row.payload.tokens.input).toBeGreaterThan(0);
  });
});

describe('inference gateway: refusals and failures', () => {
  it('the daily hard cap reached: InferenceBudgetError, and the server never hears of it', async () => {
    const t = await setup('litellm', { hardUsd: 1 });
    appendEvent(t.db, { at: Date.now(), actor: 'engine', kind: 'spend', payload: { usd: 1, role: 'worker' } });
    await expect(t.ask()).rejects.toBeInstanceOf(InferenceBudgetError);
    expect(t.server.requests).toHaveLength(0);
    expect(t.rows('spend')).toHaveLength(1);
  });

  it('the killswitch set: InferenceKilledError, no request', async () => {
    const t = await setup('litellm', { killed: () => true });
    await expect(t.ask()).rejects.toBeInstanceOf(InferenceKilledError);
    expect(t.server.requests).toHaveLength(0);
  });

  it('no answer within timeoutMs: InferenceTimeoutError naming the setting, nothing recorded', async () => {
    const t = await setup('litellm', { timeoutMs: 300, reply: () => ({ hang: true }) });
    const error = await t.ask().catch((e) => e);
    expect(error).toBeInstanceOf(InferenceTimeoutError);
    expect(error.message).toMatch(/inference\.timeoutMs/);
    expect(listEvents(t.db)).toEqual([]);
  });

  it('an HTTP error: InferenceHttpError with the status; a body echoing the key is masked', async () => {
    const t = await setup('litellm', { reply: () => ({ status: 401, body: JSON.stringify({ error: { message: `invalid key ${KEY}` } }) }) });
    const error = await t.ask().catch((e) => e);
    expect(error).toBeInstanceOf(InferenceHttpError);
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/expected HTTP 2xx, got 401/);
    expect(error.message).not.toContain(KEY);
    expect(error.fix).toMatch(/apiKeyEnv/);
  });

  it('a 2xx body that is not JSON: InferenceResponseError; the unpriced call is still recorded as an undercount (it was answered)', async () => {
    const t = await setup('litellm', { reply: () => ({ raw: '<html>gateway</html>' }) });
    await expect(t.ask()).rejects.toBeInstanceOf(InferenceResponseError);
    expect(t.rows('spend')).toEqual([]);
    expect(t.rows('budget.undercount_risk')).toHaveLength(1);
  });

  it('the key variable unset: a ConfigError naming the variable, no request', async () => {
    const t = await setup('litellm', { env: {} });
    const error = await t.ask().catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/TEST_INFERENCE_KEY/);
    expect(t.server.requests).toHaveLength(0);
  });

  it('the API key is in no file of the state dir after calls', async () => {
    const t = await setup('litellm');
    await t.ask();
    await t.ask();
    t.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const f of readdirSync(t.dir)) expect(readFileSync(join(t.dir, f)).includes(KEY), f).toBe(false);
  });
});
