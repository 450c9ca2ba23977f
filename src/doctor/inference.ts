/**
 * The inference gateway (docs/agents.md): its key variable set (never its value shown), its rate card readable,
 * and which cost source each call will rely on. No `inference` block: no result at all, so the output is as before.
 */
import { loadRateCard } from '../../actors/agents/codex.js';
import { routeOf } from '../../actors/agents/router.js';
import type { CheckProvider, CheckResult } from './types.js';

export const inferenceChecks: CheckProvider = {
  name: 'inference',
  needsAdapter: true,
  async check(ctx) {
    const adapter = ctx.adapter!;
    const settings = adapter.inference;
    if (!settings) return [];
    const results: CheckResult[] = [];
    const route = routeOf(adapter, 'triage');
    const triage = adapter.triage?.enabled ? `triage on (${route?.model})` : 'triage off';
    if (settings.apiKeyEnv && !ctx.env[settings.apiKeyEnv]) {
      results.push({ id: 'inference', status: adapter.triage?.enabled ? 'fail' : 'warn', detail: `inference gateway ${settings.baseUrl}: ${settings.apiKeyEnv} is not set in this environment; ${triage}`, fix: `Export ${settings.apiKeyEnv} where the daemon runs (its value is read at each call and never stored).` });
    } else {
      results.push({ id: 'inference', status: 'ok', detail: `inference gateway ${settings.baseUrl}: ${settings.apiKeyEnv ? `key from ${settings.apiKeyEnv}` : 'no key'}; ${triage}` });
    }
    try {
      const card = loadRateCard(settings.rateCard, 'inference.rateCard');
      const priced = route?.model && (card[route.model] ?? card['*']);
      results.push(
        priced
          ? { id: 'inference:cost', status: 'ok', detail: `cost: the endpoint's (x-litellm-response-cost or usage.total_cost), else ${settings.rateCard}` }
          : { id: 'inference:cost', status: 'ok', detail: "cost: the endpoint's (x-litellm-response-cost or usage.total_cost); a call without either is recorded as budget.undercount_risk (no rate card price for it)" },
      );
    } catch (error) {
      results.push({ id: 'inference:cost', status: 'fail', detail: (error as Error).message, fix: (error as { fix?: string }).fix });
    }
    return results;
  },
};
