import { OUTCOME_KINDS } from '../../machines/outcome.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NdjsonSplitter, parseAgentStream, type AgentBackend } from '../../src/agents/stream.js';
import { announceSeed, fuzzParams, markdownish } from './settings.js';

announceSeed('agent stream');

const backend = fc.constantFrom<AgentBackend>('claude', 'codex', 'scripted');
/** Lines an agent log really holds: JSON events of every kind, noise, half-written lines. */
const event = fc.oneof(
  fc.record({ type: fc.constantFrom('system', 'assistant', 'user', 'result', 'thread.started', 'item.completed', 'turn.completed', 'turn.failed', 'error'), subtype: fc.option(fc.string({ maxLength: 6 })) }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.object({ maxDepth: 2 }),
);
const line = fc.oneof(
  { weight: 4, arbitrary: event.map((e) => JSON.stringify(e)) },
  { weight: 2, arbitrary: markdownish },
  { weight: 1, arbitrary: event.map((e) => JSON.stringify(e)).map((s) => s.slice(0, Math.max(1, s.length >> 1))) },
);
const log = fc.array(line, { maxLength: 30 }).map((ls) => ls.join('\n'));

/** A claude result event (the terminal the engine reads its outcome from). */
const claudeResult = fc.record({
  type: fc.constant('result'),
  subtype: fc.constantFrom('success', 'error_during_execution', 'error_max_turns'),
  is_error: fc.boolean(),
  result: fc.string({ maxLength: 40 }),
  total_cost_usd: fc.double({ min: 0, max: 50, noNaN: true }),
  num_turns: fc.nat(200),
  session_id: fc.uuid(),
});

function splitAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(text.slice(prev, p));
    prev = p;
  }
  out.push(text.slice(prev));
  return out;
}

describe('agent stream parser under fuzzing', () => {
  it('never throws on any log, for every backend; a terminal always carries text, a cost and (if failed) an error kind', () => {
    fc.assert(
      fc.property(fc.oneof(log, fc.string({ unit: 'binary', maxLength: 300 })), backend, (text, b) => {
        const summary = parseAgentStream(text, b);
        expect(summary.events).toBeGreaterThanOrEqual(0);
        const t = summary.terminal;
        if (t) {
          expect(typeof t.text).toBe('string');
          expect(Number.isFinite(t.costUsd)).toBe(true);
          if (!t.ok) {
            expect(OUTCOME_KINDS).toContain(t.kind);
            expect(t.error?.length ?? 0).toBeGreaterThan(0);
          }
        }
      }),
      fuzzParams(),
    );
  });

  it('gives the same events however the log arrives in chunks (tailing a growing file)', () => {
    fc.assert(
      fc.property(log, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const whole = new NdjsonSplitter();
        const expected = [...whole.push(text), ...whole.end()];
        const chunked = new NdjsonSplitter();
        const got: unknown[] = [];
        for (const piece of splitAt(text, cuts)) got.push(...chunked.push(piece));
        got.push(...chunked.end());
        expect(got).toEqual(expected);
      }),
      fuzzParams(),
    );
  });

  it('finds the result event whatever noise surrounds it; garbage alone is never a success', () => {
    fc.assert(
      fc.property(log, claudeResult, log, (before, result, after) => {
        const noise = parseAgentStream(`${before}\n${after}`, 'claude');
        const text = `${before}\n${JSON.stringify(result)}\n${after}`;
        const summary = parseAgentStream(text, 'claude');
        // A later result event in the noise wins; otherwise it is ours.
        if (!noise.terminal) {
          expect(summary.terminal?.ok).toBe(result.is_error === false);
          expect(summary.terminal?.text).toBe(result.result);
          expect(summary.terminal?.costUsd).toBe(result.total_cost_usd);
        }
        // Truncating the result line (worker killed mid-write) never yields our success.
        const json = JSON.stringify(result);
        const cut = parseAgentStream(`${before}\n${json.slice(0, json.length - 1)}`, 'claude');
        if (!parseAgentStream(before, 'claude').terminal) expect(cut.terminal).toBeUndefined();
      }),
      fuzzParams(),
    );
  });
});
