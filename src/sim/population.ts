import { between, pick } from './prng.js';

/** The kinds of worker the simulated week is populated with. */
export const BEHAVIOURS = ['fast', 'slow', 'flaky', 'hanging', 'overBudget', 'garbage', 'rateLimited'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

const WEIGHTS: Record<Behaviour, number> = { fast: 40, slow: 20, flaky: 12, hanging: 8, overBudget: 6, garbage: 6, rateLimited: 8 };

/** One step of a simulated session: after `afterMs`, append `line` to the stream (or end the process). */
export interface SessionStep {
  afterMs: number;
  line?: string;
}

export interface Session {
  steps: SessionStep[];
  /** exit: the process ends after the last step; hang: it stays alive and silent. */
  end: 'exit' | 'hang';
  costUsd: number;
}

const MIN = 60_000;
const json = (o: unknown) => JSON.stringify(o);

/**
 * A seeded population: each task gets a behaviour, and each attempt a session written in
 * claude's stream-json (what the real parser reads). Flaky, hanging, garbage and rate-limited
 * workers misbehave on some attempts only, as real ones do; over-budget ones always hit the cap.
 */
/** Outage weather over the model API: a usage limit until `until`, or an expired key. */
export interface Weather {
  kind: 'rate_limited' | 'auth';
  until: number;
}

/** What the CLI says in each weather: claude's own texts (a usage limit names its reset as epoch seconds). */
export function weatherError(w: Weather): { status: number; text: string } {
  return w.kind === 'rate_limited'
    ? { status: 429, text: `Claude AI usage limit reached|${Math.floor(w.until / 1000)}` }
    : { status: 401, text: 'Failed to authenticate. API Error: 401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}' };
}

export class Population {
  private readonly behaviourOf = new Map<string, Behaviour>();
  /** The weather now (set by the world); a session started in bad weather fails at its first API call. */
  weather: () => Weather | null = () => null;
  readonly counts: Record<Behaviour, number> = Object.fromEntries(BEHAVIOURS.map((b) => [b, 0])) as Record<Behaviour, number>;

  constructor(
    private readonly rand: () => number,
    private readonly perTaskUsd: number,
  ) {}

  behaviour(taskId: string): Behaviour {
    let b = this.behaviourOf.get(taskId);
    if (!b) {
      const total = Object.values(WEIGHTS).reduce((a, c) => a + c, 0);
      let r = this.rand() * total;
      b = BEHAVIOURS.find((x) => (r -= WEIGHTS[x]) < 0) ?? 'fast';
      this.behaviourOf.set(taskId, b);
      this.counts[b]++;
    }
    return b;
  }

  session(taskId: string, attempt: number): Session {
    const b = this.behaviour(taskId);
    const sid = `sim-${taskId}-${attempt}-${Math.floor(this.rand() * 1e9)}`;
    const init = { afterMs: 5_000, line: json({ type: 'system', subtype: 'init', session_id: sid }) };
    const chatter = (minutes: number): SessionStep[] =>
      Array.from({ length: Math.max(1, Math.floor(minutes / 2)) }, () => ({ afterMs: 2 * MIN, line: json({ type: 'assistant', message: { content: [{ type: 'text', text: 'editing files' }] } }) }));
    const result = (costUsd: number, extra: Record<string, unknown> = {}) => ({
      afterMs: 10_000,
      line: json({ type: 'result', subtype: 'success', is_error: false, result: 'done', total_cost_usd: costUsd, num_turns: 3, session_id: sid, ...extra }),
    });
    const ok = (minutes: number): Session => {
      const costUsd = Math.round((0.2 + this.rand() * 0.8) * 100) / 100;
      return { steps: [init, ...chatter(minutes), result(costUsd)], end: 'exit', costUsd };
    };
    const misbehaves = this.rand() < 0.6 && attempt === 0;
    const w = this.weather();
    if (w) {
      const e = weatherError(w);
      return { steps: [init, { afterMs: 2_000, line: json({ type: 'result', subtype: 'success', is_error: true, result: e.text, api_error_status: e.status, total_cost_usd: 0, session_id: sid }) }], end: 'exit', costUsd: 0 };
    }
    switch (b) {
      case 'fast':
        return ok(between(this.rand, 4, 16));
      case 'slow':
        return ok(between(this.rand, 60, 110));
      case 'flaky':
        // Crashes mid-session (no result event): the watcher finds it gone, the task is reaped.
        return this.rand() < 0.5 ? { steps: [init, ...chatter(between(this.rand, 2, 10))], end: 'exit', costUsd: 0 } : ok(between(this.rand, 4, 20));
      case 'hanging':
        // Alive and silent: the stall timeout must stop it.
        return misbehaves ? { steps: [init], end: 'hang', costUsd: 0 } : ok(between(this.rand, 4, 16));
      case 'garbage':
        return misbehaves
          ? { steps: [{ afterMs: 30_000, line: 'Segmentation fault (core dumped)' }, { afterMs: 30_000, line: '{"type":"resu' }], end: 'exit', costUsd: 0 }
          : ok(between(this.rand, 4, 16));
      case 'rateLimited':
        return misbehaves
          ? {
              steps: [init, { afterMs: 20_000, line: json({ type: 'result', subtype: 'error_during_execution', is_error: true, result: '', errors: ['rate_limit_error: 429'], api_error_status: 429, total_cost_usd: 0.01, session_id: sid }) }],
              end: 'exit',
              costUsd: 0.01,
            }
          : ok(between(this.rand, 4, 16));
      case 'overBudget':
        // Spends up to the per-task cap (the agent enforces it) and stops with an error.
        return {
          steps: [init, ...chatter(between(this.rand, 10, 30)), { afterMs: 10_000, line: json({ type: 'result', subtype: 'error_max_budget_usd', is_error: true, result: '', errors: [`Reached maximum budget ($${this.perTaskUsd})`], total_cost_usd: this.perTaskUsd, session_id: sid }) }],
          end: 'exit',
          costUsd: this.perTaskUsd,
        };
    }
  }

  /** Critic verdicts: mostly approvals, some rejections answered by a fix attempt. */
  approves(): boolean {
    return this.rand() < 0.85;
  }

  checksPass(): boolean {
    return this.rand() < 0.9;
  }

  planIsGarbage(): boolean {
    return this.rand() < 0.03;
  }

  pickOne<T>(xs: readonly T[]): T {
    return pick(this.rand, xs);
  }
}
