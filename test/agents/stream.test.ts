import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NdjsonSplitter, classifyExit, parseAgentStream, summarizeEvents } from '../../src/agents/stream.js';

// Fixtures are real captured lines from shared/reference/agent-streams.md (claude-code 2.1.197, codex-cli 0.169.0).
const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'streams', name), 'utf8');

describe('parseAgentStream — claude', () => {
  it('summarizes a successful run', () => {
    const summary = parseAgentStream(fixture('claude-success.ndjson'), 'claude');
    expect(summary.events).toBe(5);
    expect(summary.terminal).toEqual({
      ok: true,
      text: 'Done. The remote has "git version 2.39.5\\n\\n<system-reminder>\\nUSD budget: $0.000',
      costUsd: 0.00186,
      inputTokens: 500,
      outputTokens: 24,
      turns: 2,
      sessionId: '0d1b6e52-8ad2-439c-bf45-eac00f0da174',
      permissionDenials: 0,
    });
  });

  it('classifies subtype success with is_error true (HTTP 401) as an auth outage', () => {
    const { terminal } = parseAgentStream(fixture('claude-api-error.ndjson'), 'claude');
    expect(terminal?.ok).toBe(false);
    expect(terminal?.kind).toBe('auth');
    expect(terminal?.error).toContain('Failed to authenticate. API Error: 401');
    expect(terminal?.costUsd).toBe(0);
    expect(terminal?.sessionId).toBe('44081273-47ca-4955-b02f-18cddd5105ff');
  });

  it('classifies 529/overloaded and 429/rate-limit API failures as outages', () => {
    const base = JSON.parse(fixture('claude-api-error.ndjson').trim().split('\n')[1]) as Record<string, unknown>;
    const overloaded = { ...base, api_error_status: 529, result: 'API Error: 529 overloaded' };
    const rateLimited = { ...base, api_error_status: 429, result: 'API Error: Too many requests' };
    const textOnly = { ...base, api_error_status: null, result: 'Rate limit reached for requests' };
    for (const [result, kind] of [[overloaded, 'overloaded'], [rateLimited, 'rate_limited'], [textOnly, 'rate_limited']] as const) {
      const { terminal } = parseAgentStream(`${JSON.stringify(result)}\n`, 'claude');
      expect(terminal?.ok).toBe(false);
      expect(terminal?.kind).toBe(kind);
    }
    // The synthetic assistant message's `error` field alone is enough.
    const assistant = JSON.stringify({ type: 'assistant', error: 'rate_limit', message: { content: [] } });
    const opaque = JSON.stringify({ ...base, api_error_status: null, result: 'API Error' });
    expect(parseAgentStream(`${assistant}\n${opaque}\n`, 'claude').terminal?.kind).toBe('rate_limited');
  });

  it('reports max-turns and max-budget limits as failed with the errors text', () => {
    const turns = parseAgentStream(fixture('claude-max-turns.ndjson'), 'claude').terminal;
    expect(turns).toMatchObject({ ok: false, kind: 'failed', error: 'Reached maximum number of turns (1)', turns: 2, text: '' });
    expect(turns?.costUsd).toBeCloseTo(0.00078);
    const budget = parseAgentStream(fixture('claude-max-budget.ndjson'), 'claude').terminal;
    expect(budget).toMatchObject({ ok: false, kind: 'failed', error: 'Reached maximum budget ($0.0001)', costUsd: 0.00228 });
  });

  it('counts permission denials on a run that still succeeds', () => {
    const { terminal } = parseAgentStream(fixture('claude-permission-denied.ndjson'), 'claude');
    expect(terminal).toMatchObject({ ok: true, permissionDenials: 1 });
  });

  it('has no terminal without a result event (api_retry notices are just events)', () => {
    expect(parseAgentStream(fixture('claude-api-retry.ndjson'), 'claude')).toEqual({ events: 1 });
    expect(parseAgentStream('', 'claude')).toEqual({ events: 0 });
  });

  it('reads the scripted backend as claude', () => {
    const summary = parseAgentStream(fixture('claude-success.ndjson'), 'scripted');
    expect(summary.terminal?.ok).toBe(true);
  });
});

describe('parseAgentStream — codex', () => {
  it('summarizes turn.completed with the last agent_message text and no cost', () => {
    const summary = parseAgentStream(fixture('codex-success.ndjson'), 'codex');
    expect(summary.events).toBe(7); // the leading blank line is skipped
    expect(summary.terminal).toEqual({
      ok: true,
      text: 'Done: Chunk ID: 5a84b6\nWall time: 0.0000 seconds\nProcess exited with code 0\nOriginal t',
      costUsd: 0,
      inputTokens: 3000,
      cachedInputTokens: 0,
      outputTokens: 40,
      turns: 1,
      sessionId: '01a2012f-ce40-7511-848c-4eea7a8a00c2',
    });
  });

  it('reports turn.failed with error.message', () => {
    const { terminal } = parseAgentStream(fixture('codex-failure.ndjson'), 'codex');
    expect(terminal).toMatchObject({ ok: false, kind: 'auth', costUsd: 0, sessionId: '01a20130-0614-7823-912f-ae1ebc1b85e0' });
    expect(terminal?.error).toBe('unexpected status 401 Unauthorized: mock 401, url: http://127.0.0.1:8788/v1/responses');
  });

  it('classifies a 429 turn failure as a rate limit', () => {
    const text = '{"type":"turn.started"}\n{"type":"turn.failed","error":{"message":"exceeded retry limit, last status: 429 Too Many Requests"}}\n';
    expect(parseAgentStream(text, 'codex').terminal?.kind).toBe('rate_limited');
  });

  it('parses a resumed thread', () => {
    expect(parseAgentStream(fixture('codex-resume.ndjson'), 'codex').terminal).toMatchObject({ ok: true, text: 'mock reply', inputTokens: 16000 });
  });
});

describe('tolerance', () => {
  const ok = fixture('claude-success.ndjson').trim().split('\n');

  it('skips blank lines, CRLF, non-JSON noise, JSON non-objects and unknown types', () => {
    const text = ['', 'Warning: something on stdout', ok[0], '   ', '[1,2]', '42', 'null', '{"type":"rate_limit_event"}\r', '{not json', ok[4], ''].join('\n');
    const summary = parseAgentStream(text, 'claude');
    expect(summary.events).toBe(3);
    expect(summary.terminal?.ok).toBe(true);
  });

  it('parses a 2 MB line', () => {
    const big = JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text: 'x'.repeat(2 * 1024 * 1024) }] } });
    const summary = parseAgentStream(`${ok[0]}\n${big}\n${ok[4]}\n`, 'claude');
    expect(summary.events).toBe(3);
    expect(summary.terminal?.ok).toBe(true);
  });

  it('ignores a truncated last line', () => {
    const truncated = ok[4].slice(0, 200);
    const summary = parseAgentStream(`${ok[0]}\n${ok[1]}\n${truncated}`, 'claude');
    expect(summary).toEqual({ events: 2 });
  });

  it('keeps a complete last line without a trailing newline', () => {
    expect(parseAgentStream(`${ok[0]}\n${ok[4]}`, 'claude').terminal?.ok).toBe(true);
  });
});

describe('NdjsonSplitter', () => {
  const text = fixture('codex-success.ndjson');

  it('yields the same objects whatever the chunk boundaries', () => {
    const whole = new NdjsonSplitter();
    const expected = [...whole.push(text), ...whole.end()];
    expect(expected).toHaveLength(7);
    for (const size of [1, 2, 7, 64, 333]) {
      const splitter = new NdjsonSplitter();
      const got: unknown[] = [];
      for (let i = 0; i < text.length; i += size) got.push(...splitter.push(text.slice(i, i + size)));
      got.push(...splitter.end());
      expect(got).toEqual(expected);
    }
  });

  it('returns only complete lines from push and holds the partial one', () => {
    const splitter = new NdjsonSplitter();
    expect(splitter.push('{"type":"turn.started"}\n{"type":"turn.comp')).toEqual([{ type: 'turn.started' }]);
    expect(splitter.push('leted","usage":{}}')).toEqual([]);
    expect(splitter.push('\n')).toEqual([{ type: 'turn.completed', usage: {} }]);
    expect(splitter.end()).toEqual([]);
  });

  it('splits a 2 MB line delivered in 64 KB chunks', () => {
    const big = JSON.stringify({ type: 'assistant', pad: 'y'.repeat(2 * 1024 * 1024) });
    const splitter = new NdjsonSplitter();
    const got: unknown[] = [];
    const stream = `${big}\n{"type":"result","is_error":false}\n`;
    for (let i = 0; i < stream.length; i += 65536) got.push(...splitter.push(stream.slice(i, i + 65536)));
    expect(got).toHaveLength(2);
    expect(summarizeEvents(got, 'claude').terminal?.ok).toBe(true);
  });

  it('drops lines over maxLineChars and recovers on the next line', () => {
    const splitter = new NdjsonSplitter({ maxLineChars: 100 });
    const long = JSON.stringify({ type: 'x', pad: 'z'.repeat(500) });
    expect(splitter.push(`${long.slice(0, 60)}`)).toEqual([]);
    expect(splitter.push(`${long.slice(60)}\n{"type":"ok"}\n`)).toEqual([{ type: 'ok' }]);
  });
});

describe('classifyExit', () => {
  it('treats SIGTERM / 143 as an interruption (timed_out) and anything else as failed', () => {
    expect(classifyExit({ signal: 'SIGTERM' })).toBe('timed_out');
    expect(classifyExit({ exitCode: 143 })).toBe('timed_out');
    expect(classifyExit({ exitCode: 1 })).toBe('failed');
    expect(classifyExit({ exitCode: 137, signal: 'SIGKILL' })).toBe('failed');
    expect(classifyExit({ exitCode: 0 })).toBe('failed');
  });
});
