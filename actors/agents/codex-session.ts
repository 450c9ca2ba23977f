/**
 * Reasoning tokens from codex's session file. `codex exec --json` may report a turn's usage without them; codex
 * writes its own account to `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl` (facts in
 * docs/agents.md, checked against codex-cli 0.169): each `event_msg` of type `token_count` carries the thread's
 * cumulative `total_token_usage` (with `reasoning_output_tokens`) and `last_usage_includes_reasoning`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { HostTransport } from '../../src/ports.js';

/** What the last run of a thread (the part after its last `task_started`) spent, by codex's own account. */
export interface SessionUsage {
  reasoningTokens: number;
  outputTokens: number;
  /** codex's `last_usage_includes_reasoning`: whether its output count already holds the reasoning tokens. */
  includesReasoning: boolean;
}

type Totals = { reasoning: number; output: number };
const ZERO: Totals = { reasoning: 0, output: 0 };

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/**
 * The last run's usage in a session file's text: `started` once codex recorded the run, `usage` once it wrote a
 * token count for it (a run that failed before any response has none: it spent nothing).
 */
export function lastRunUsage(text: string): { started: boolean; usage?: SessionUsage } {
  let started = false;
  let total: Totals | undefined;
  let base: Totals = ZERO;
  let after: Totals | undefined;
  let includes = false;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let row: { type?: unknown; payload?: { type?: unknown; info?: Record<string, unknown> | null } };
    try {
      row = JSON.parse(line);
    } catch {
      continue; // a line being written as we read: the next poll sees it whole
    }
    if (row.type !== 'event_msg' || !row.payload) continue;
    if (row.payload.type === 'task_started') {
      // A resumed thread appends to the same file: this run's spend is what the totals grew by after it started.
      base = total ?? ZERO;
      after = undefined;
      started = true;
    } else if (row.payload.type === 'token_count' && row.payload.info) {
      const usage = row.payload.info.total_token_usage as Record<string, unknown> | undefined;
      if (!usage) continue;
      total = { reasoning: count(usage.reasoning_output_tokens), output: count(usage.output_tokens) };
      after = total;
      includes = row.payload.info.last_usage_includes_reasoning === true;
    }
  }
  if (!after) return { started };
  return { started, usage: { reasoningTokens: Math.max(0, after.reasoning - base.reasoning), outputTokens: Math.max(0, after.output - base.output), includesReasoning: includes } };
}

/** Where codex keeps its session files for an agent with this environment (`agents.codex.sessionsDir` wins). */
export function codexSessionsDir(configured: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (configured) return configured;
  const home = env.CODEX_HOME ?? (env.HOME ? posix.join(env.HOME, '.codex') : undefined);
  return home ? posix.join(home, 'sessions') : undefined;
}

/** Finds and reads a thread's session file: on this machine, or on an SSH host through its transport. */
export interface SessionFiles {
  find(dir: string, threadId: string): Promise<string | undefined>;
  read(path: string): Promise<string | undefined>;
}

// A thread id names a file: anything but codex's uuid shape is refused before it reaches a path or a `find`.
const THREAD_ID = /^[0-9a-fA-F-]{8,64}$/;
const fileName = (threadId: string) => `-${threadId}.jsonl`;

export const localSessionFiles: SessionFiles = {
  async find(dir, threadId) {
    let names: string[];
    try {
      names = readdirSync(dir, { recursive: true, encoding: 'utf8' });
    } catch {
      return undefined;
    }
    const hit = names.filter((n) => n.endsWith(fileName(threadId))).sort().pop();
    return hit ? join(dir, hit) : undefined;
  },
  async read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
};

export function hostSessionFiles(host: HostTransport): SessionFiles {
  return {
    async find(dir, threadId) {
      const found = await host.exec(['find', dir, '-type', 'f', '-name', `rollout-*${fileName(threadId)}`]);
      return found.exitCode === 0 ? found.stdout.split('\n').filter(Boolean).sort().pop() : undefined;
    },
    read: (path) => host.readFile(path),
  };
}

export interface WaitForUsage {
  files: SessionFiles;
  dir: string;
  threadId: string;
  /** How long to wait for codex to write the file after the run's stream ended. */
  waitMs: number;
  /** The run failed: codex writes each response's count as it comes, so a recorded run with none spent nothing. */
  failed: boolean;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** Polls briefly for the thread's usage: codex may write the session file's last token count just after the stream ends. */
export async function waitForSessionUsage(w: WaitForUsage): Promise<{ usage?: SessionUsage; file?: string; why?: string }> {
  if (!THREAD_ID.test(w.threadId)) return { why: `the thread id ${JSON.stringify(w.threadId)} is not codex's` };
  const deadline = w.now() + w.waitMs;
  let file: string | undefined;
  for (;;) {
    file ??= await w.files.find(w.dir, w.threadId);
    const text = file ? await w.files.read(file) : undefined;
    const run = text ? lastRunUsage(text) : { started: false };
    if (run.usage) return { usage: run.usage, file };
    if (run.started && w.failed) return { usage: { reasoningTokens: 0, outputTokens: 0, includesReasoning: true }, file };
    if (w.now() >= deadline) {
      return { ...(file ? { file } : {}), why: file ? `codex's session file ${file} has no token count for this run` : `no codex session file for thread ${w.threadId} under ${w.dir}` };
    }
    await w.sleep(Math.min(100, Math.max(1, deadline - w.now())));
  }
}
