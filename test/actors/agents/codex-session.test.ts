/**
 * Reasoning tokens from codex's session file (actors/agents/codex-session.ts), with session files written here in
 * the shape codex-cli 0.169 writes (the real CLI's file is read in real-cli.test.ts).
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { settleCodexUsage } from '../../../actors/agents/codex.js';
import { codexSessionsDir, hostSessionFiles, lastRunUsage, localSessionFiles, waitForSessionUsage } from '../../../actors/agents/codex-session.js';
import { LocalHost } from '../../../actors/hosts/local-host.js';
import { spendNote } from '../../../actors/effects/run-agent.js';
import type { AgentOutcome } from '../../../src/ports.js';

const THREAD = '01a24beb-a5a6-7393-acd2-6f7785e6d42f';
const line = (payload: Record<string, unknown>) => `${JSON.stringify({ timestamp: '2026-12-06T15:14:25.494Z', type: 'event_msg', payload })}\n`;
const started = () => line({ type: 'task_started' });
const tokens = (output: number, reasoning: number, includes = false) =>
  line({ type: 'token_count', info: { total_token_usage: { input_tokens: 1000, output_tokens: output, reasoning_output_tokens: reasoning }, last_usage_includes_reasoning: includes } });
const meta = `${JSON.stringify({ type: 'session_meta', payload: { id: THREAD } })}\n`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function sessionsDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'oxi-codex-sessions-'));
  dirs.push(d);
  return d;
}
function writeSession(dir: string, text: string): string {
  const day = join(dir, '2026', '12', '06');
  mkdirSync(day, { recursive: true });
  const file = join(day, `rollout-2026-12-06T15-14-24-${THREAD}.jsonl`);
  writeFileSync(file, text);
  return file;
}
const outcome = (over: Partial<AgentOutcome> = {}): AgentOutcome => ({ ok: true, text: 'done', usage: { costUsd: 0.0035, inputTokens: 2000, outputTokens: 100 }, sessionId: THREAD, backend: 'codex', model: 'gpt-5-codex', ...over });
const card = { 'gpt-5-codex': { input: 1.25, cachedInput: 0.125, output: 10 } };

describe('lastRunUsage: the part of the thread after its last task_started', () => {
  it('a fresh thread: the last cumulative total', () => {
    expect(lastRunUsage(meta + started() + tokens(50, 300) + tokens(100, 600))).toEqual({ started: true, usage: { reasoningTokens: 600, outputTokens: 100, includesReasoning: false } });
  });

  it('a resumed thread appends to the file: only what the totals grew by since the run started counts', () => {
    const text = meta + started() + tokens(100, 600) + started() + tokens(130, 650, true);
    expect(lastRunUsage(text)).toEqual({ started: true, usage: { reasoningTokens: 50, outputTokens: 30, includesReasoning: true } });
  });

  it('no count yet for the run (being written, or a run that failed before any response): started, no usage', () => {
    expect(lastRunUsage(meta + started() + tokens(100, 600) + started())).toEqual({ started: true });
    expect(lastRunUsage(meta)).toEqual({ started: false });
  });

  it('a half-written last line is skipped, not a parse error', () => {
    expect(lastRunUsage(meta + started() + tokens(10, 20) + '{"type":"event_msg","payl')).toMatchObject({ usage: { reasoningTokens: 20 } });
  });
});

describe('codexSessionsDir', () => {
  it('agents.codex.sessionsDir wins; else CODEX_HOME/sessions; else $HOME/.codex/sessions; else none', () => {
    expect(codexSessionsDir('/srv/codex/sessions', { CODEX_HOME: '/x' })).toBe('/srv/codex/sessions');
    expect(codexSessionsDir(undefined, { CODEX_HOME: '/var/tmp/ch', HOME: '/home/a' })).toBe('/var/tmp/ch/sessions');
    expect(codexSessionsDir(undefined, { HOME: '/home/a' })).toBe('/home/a/.codex/sessions');
    expect(codexSessionsDir(undefined, {})).toBeUndefined();
  });
});

describe('waitForSessionUsage', () => {
  const wait = (dir: string, over: { waitMs?: number; failed?: boolean; files?: typeof localSessionFiles; threadId?: string } = {}) =>
    waitForSessionUsage({ files: localSessionFiles, dir, threadId: THREAD, waitMs: 5_000, failed: false, now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), ...over });

  it('waits for a count codex writes after the stream ended', async () => {
    const dir = sessionsDir();
    const file = writeSession(dir, meta + started());
    let polls = 0;
    const files = {
      find: localSessionFiles.find,
      read: async (path: string) => {
        // The count lands after the second look, as codex's writer would.
        if (++polls === 2) appendFileSync(file, tokens(100, 600));
        return localSessionFiles.read(path);
      },
    };
    const found = await wait(dir, { files });
    expect(found.usage).toEqual({ reasoningTokens: 600, outputTokens: 100, includesReasoning: false });
    expect(polls).toBe(2); // the first look found no count and waited for it
  });

  it('no file: says why after the wait, with no usage', async () => {
    const found = await wait(sessionsDir(), { waitMs: 50 });
    expect(found.usage).toBeUndefined();
    expect(found.why).toMatch(/no codex session file for thread 01a24beb/);
  });

  it('a failed run codex recorded without a count spent nothing: no wait, zero usage', async () => {
    const dir = sessionsDir();
    writeSession(dir, meta + started());
    expect((await wait(dir, { failed: true, waitMs: 60_000 })).usage).toEqual({ reasoningTokens: 0, outputTokens: 0, includesReasoning: true });
  });

  it('a thread id that is not codex\'s never reaches a path or a find', async () => {
    const found = await wait(sessionsDir(), { threadId: '../../etc/passwd', waitMs: 10 });
    expect(found.why).toMatch(/not codex's/);
  });

  it('through a host transport (the SSH path): find and read on the host', async () => {
    const dir = sessionsDir();
    writeSession(dir, meta + started() + tokens(100, 600));
    const found = await wait(dir, { files: hostSessionFiles(new LocalHost()) });
    expect(found.usage?.reasoningTokens).toBe(600);
    expect(found.file).toContain(`rollout-2026-12-06T15-14-24-${THREAD}.jsonl`);
  });
});

describe('settleCodexUsage: reasoning priced, or the undercount said', () => {
  const settings = (dir: string) => ({ sessionsDir: dir, sessionWaitMs: 200 });

  it('codex says its output count holds no reasoning: reasoning tokens priced at the output rate', async () => {
    const dir = sessionsDir();
    writeSession(dir, meta + started() + tokens(100, 600, false));
    const out = await settleCodexUsage(outcome(), settings(dir), card, {}, localSessionFiles);
    expect(out.usage.costUsd).toBeCloseTo(0.0035 + (600 * 10) / 1e6, 9);
    expect(out.usage.reasoningTokens).toBe(600);
    expect(out.usage.undercount).toBeUndefined();
  });

  it('codex says they are already in the output count: nothing added', async () => {
    const dir = sessionsDir();
    writeSession(dir, meta + started() + tokens(100, 600, true));
    const out = await settleCodexUsage(outcome(), settings(dir), card, {}, localSessionFiles);
    expect(out.usage.costUsd).toBe(0.0035);
    expect(out.usage.reasoningTokens).toBe(600);
  });

  it('no session file: the stream\'s cost stands and the undercount is said, becoming a budget.undercount_risk row', async () => {
    const out = await settleCodexUsage(outcome(), settings(sessionsDir()), card, {}, localSessionFiles);
    expect(out.usage.costUsd).toBe(0.0035);
    expect(out.usage.undercount).toMatch(/no codex session file/);
    const rows = spendNote({ taskId: 'T1' }, out.usage.costUsd, 'worker', out.usage);
    expect(rows.map((r) => r.kind)).toEqual(['spend', 'budget.undercount_risk']);
    expect(rows[1].payload).toMatchObject({ task: 'T1', role: 'worker', usd: 0.0035 });
  });

  it('a model the rate card cannot price is an undercount too, never a silent zero', async () => {
    const dir = sessionsDir();
    writeSession(dir, meta + started() + tokens(100, 600));
    const out = await settleCodexUsage(outcome({ model: 'o9' }), settings(dir), card, {}, localSessionFiles);
    expect(out.usage.undercount).toMatch(/no price for model o9/);
  });

  it('an env with neither CODEX_HOME nor HOME and no sessionsDir: said, not guessed', async () => {
    const out = await settleCodexUsage(outcome(), { sessionWaitMs: 10 }, card, {}, localSessionFiles);
    expect(out.usage.undercount).toMatch(/neither CODEX_HOME nor HOME/);
  });
});
