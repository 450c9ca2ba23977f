/**
 * What one chat-completions call cost, from the first source that says: the LiteLLM proxy's
 * `x-litellm-response-cost` header, then OpenRouter's `usage.total_cost` (or its newer `usage.cost`),
 * then the rate card priced on the reported tokens. None of them: the cost is unknown, and the caller
 * records an undercount instead of a silent zero.
 */
import { codexCost, type RateCard } from '../agents/codex.js';

export type CostSource = 'x-litellm-response-cost' | 'usage.total_cost' | 'rate-card' | 'none';

export interface CallCost {
  usd: number;
  source: CostSource;
  tokens: { input: number | null; output: number | null };
}

/** A finite, non-negative number from a header or a JSON field, else undefined. */
function amount(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function costOf(options: { header: string | null; body: unknown; model: string; card: () => RateCard }): CallCost {
  const usage = (options.body as { usage?: Record<string, unknown> } | undefined)?.usage ?? {};
  const input = amount(usage.prompt_tokens) ?? null;
  const output = amount(usage.completion_tokens) ?? null;
  const tokens = { input, output };
  const fromHeader = amount(options.header);
  if (fromHeader !== undefined) return { usd: fromHeader, source: 'x-litellm-response-cost', tokens };
  const reported = amount(usage.total_cost) ?? amount(usage.cost);
  if (reported !== undefined) return { usd: reported, source: 'usage.total_cost', tokens };
  const card = options.card();
  const priced = card[options.model] ?? card['*'];
  if (priced && input !== null && output !== null) {
    const cached = amount((usage.prompt_tokens_details as Record<string, unknown> | undefined)?.cached_tokens);
    return { usd: codexCost(card, options.model, { inputTokens: input, outputTokens: output, cachedInputTokens: cached }), source: 'rate-card', tokens };
  }
  return { usd: 0, source: 'none', tokens };
}
