/**
 * Parser for the NDJSON streams coding agents write on stdout (claude `-p --output-format stream-json --verbose`,
 * codex `exec --json`, and the scripted stand-in, which speaks claude's dialect).
 * Rules (shared/reference/agent-streams.md): one JSON object per line; blank lines, non-JSON noise and unknown
 * event types are skipped; a truncated last line (worker killed mid-write) is ignored.
 */

import { classifyApiError, type OutcomeKind } from '../../machines/outcome.js';

/** `acp`: oxi's ACP session program writes claude's dialect (actors/agents/acp/transcript.ts). */
export type AgentBackend = 'claude' | 'codex' | 'scripted' | 'acp';

export interface StreamTerminal {
  ok: boolean;
  /** How a failed run is classified (machines/outcome.ts); absent when ok. */
  kind?: OutcomeKind;
  error?: string;
  /** When the provider said a limit resets (epoch ms), or how long it asked to wait. */
  resetAt?: number;
  retryAfterMs?: number;
  text: string;
  costUsd: number;
  inputTokens?: number;
  /** codex: the part of inputTokens served from cache (priced lower). */
  cachedInputTokens?: number;
  outputTokens?: number;
  turns?: number;
  sessionId?: string;
  permissionDenials?: number;
}

export interface StreamSummary {
  /** Number of JSON objects seen (any type). */
  events: number;
  /** Absent when the stream has no terminal event (still running, crashed, garbage). */
  terminal?: StreamTerminal;
}

export interface NdjsonSplitterOptions {
  /** Lines longer than this (in UTF-16 units) are dropped whole; default 64 Mi. Bounds memory against runaway output. */
  maxLineChars?: number;
}

const DEFAULT_MAX_LINE_CHARS = 64 * 1024 * 1024;

/** Parses one line; undefined for blank lines, noise, and JSON that is not an object. */
function parseLine(raw: string): Record<string, unknown> | undefined {
  const line = raw.trim();
  // Why: cheap rejection of log noise before paying for JSON.parse.
  if (line.length === 0 || line[0] !== '{') return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Incremental splitter for a growing log: feed decoded text chunks (split anywhere, even mid-line),
 * get back the complete objects. The caller decodes bytes (use a StringDecoder when tailing by byte offset).
 */
export class NdjsonSplitter {
  private pending: string[] = [];
  private pendingChars = 0;
  /** True while discarding the rest of an over-long line. */
  private skipping = false;
  private readonly maxLineChars: number;

  constructor(options: NdjsonSplitterOptions = {}) {
    this.maxLineChars = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  }

  push(chunk: string): unknown[] {
    const out: unknown[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf('\n', start);
      if (newline === -1) break;
      this.append(chunk.slice(start, newline));
      const line = this.takeLine();
      if (line !== undefined) {
        const value = parseLine(line);
        if (value !== undefined) out.push(value);
      }
      start = newline + 1;
    }
    if (start < chunk.length) this.append(chunk.slice(start));
    return out;
  }

  /** Flushes the last line: kept only if it is a complete object (a truncated line never parses). */
  end(): unknown[] {
    const line = this.takeLine();
    const value = line === undefined ? undefined : parseLine(line);
    return value === undefined ? [] : [value];
  }

  private append(piece: string): void {
    if (this.skipping || piece.length === 0) return;
    if (this.pendingChars + piece.length > this.maxLineChars) {
      this.pending = [];
      this.pendingChars = 0;
      this.skipping = true;
      return;
    }
    // Why: collecting pieces and joining once keeps a 2 MB line arriving in small chunks linear, not quadratic.
    this.pending.push(piece);
    this.pendingChars += piece.length;
  }

  /** Returns the accumulated line (undefined if it was over-long) and resets. */
  private takeLine(): string | undefined {
    const line = this.skipping ? undefined : this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    this.skipping = false;
    return line;
  }
}

/** Parses a whole (possibly partial) agent log. */
export function parseAgentStream(text: string, backend: AgentBackend): StreamSummary {
  const splitter = new NdjsonSplitter();
  const events = [...splitter.push(text), ...splitter.end()];
  return summarizeEvents(events, backend);
}

/** Summarizes already-split events (e.g. those an NdjsonSplitter returned while tailing). */
export function summarizeEvents(events: readonly unknown[], backend: AgentBackend): StreamSummary {
  const records = events.filter(isRecord);
  const terminal = backend === 'codex' ? codexTerminal(records) : claudeTerminal(records);
  return terminal === undefined ? { events: records.length } : { events: records.length, terminal };
}

export { classifyExit } from '../../machines/outcome.js';

/** The classification of a failed run, copied onto the terminal (the reset time only when there is one). */
function classified(terminal: StreamTerminal, status: number | undefined, text: string, resetAt?: number): void {
  const c = classifyApiError({ status, text });
  terminal.kind = c.kind;
  const at = c.resetAt ?? (c.kind === 'rate_limited' ? resetAt : undefined);
  if (at !== undefined) terminal.resetAt = at;
  if (c.retryAfterMs !== undefined) terminal.retryAfterMs = c.retryAfterMs;
}

function claudeTerminal(events: readonly Record<string, unknown>[]): StreamTerminal | undefined {
  let result: Record<string, unknown> | undefined;
  let initSession: string | undefined;
  // Why: a failed API call is preceded by a synthetic assistant message whose `error` names the cause (rate_limit, overloaded…).
  let assistantError: string | undefined;
  // Why: claude reports a plan's usage limit as a rate_limit_event whose info carries the reset time (epoch s).
  let limitResetAt: number | undefined;
  for (const event of events) {
    if (event.type === 'result') result = event;
    else if (event.type === 'rate_limit_event' && isRecord(event.rate_limit_info) && event.rate_limit_info.status === 'rejected') {
      const at = num(event.rate_limit_info.resetsAt);
      if (at !== undefined) limitResetAt = at < 1e12 ? at * 1000 : at;
    }
    else if (event.type === 'system' && event.subtype === 'init') initSession = str(event.session_id) ?? initSession;
    else if (event.type === 'assistant' && typeof event.error === 'string') assistantError = event.error;
  }
  if (result === undefined) return undefined;

  const usage = isRecord(result.usage) ? result.usage : {};
  const terminal: StreamTerminal = {
    ok: result.is_error === false,
    text: str(result.result) ?? '',
    costUsd: num(result.total_cost_usd) ?? 0,
  };
  assign(terminal, 'inputTokens', num(usage.input_tokens));
  assign(terminal, 'outputTokens', num(usage.output_tokens));
  assign(terminal, 'turns', num(result.num_turns));
  assign(terminal, 'sessionId', str(result.session_id) ?? initSession);
  if (Array.isArray(result.permission_denials)) terminal.permissionDenials = result.permission_denials.length;

  if (!terminal.ok) {
    const status = num(result.api_error_status);
    const errors = Array.isArray(result.errors) ? result.errors.filter((e): e is string => typeof e === 'string') : [];
    let message = errors.length > 0 ? errors.join('; ') : terminal.text || `claude ended with ${str(result.subtype) ?? 'an error'}`;
    if (status !== undefined && !message.includes(String(status))) message += ` (api_error_status ${status})`;
    terminal.error = message;
    classified(terminal, status, `${message} ${assistantError ?? ''}`, limitResetAt);
  }
  return terminal;
}

function codexTerminal(events: readonly Record<string, unknown>[]): StreamTerminal | undefined {
  let terminal: StreamTerminal | undefined;
  let sessionId: string | undefined;
  let lastMessage = '';
  let lastErrorNotice: string | undefined;
  let inputTokens: number | undefined;
  let cachedInputTokens: number | undefined;
  let outputTokens: number | undefined;
  let turns = 0;
  for (const event of events) {
    switch (event.type) {
      case 'thread.started':
        sessionId = str(event.thread_id) ?? sessionId;
        break;
      case 'item.completed': {
        const item = isRecord(event.item) ? event.item : {};
        if (item.type === 'agent_message') lastMessage = str(item.text) ?? lastMessage;
        break;
      }
      case 'error':
        // Transient/reconnect notice; only used when turn.failed carries no message.
        lastErrorNotice = str(event.message) ?? lastErrorNotice;
        break;
      case 'turn.completed': {
        turns += 1;
        const usage = isRecord(event.usage) ? event.usage : {};
        // Why: usage is per turn, so a multi-turn session adds up.
        inputTokens = addOpt(inputTokens, num(usage.input_tokens));
        cachedInputTokens = addOpt(cachedInputTokens, num(usage.cached_input_tokens));
        outputTokens = addOpt(outputTokens, num(usage.output_tokens));
        terminal = { ok: true, text: lastMessage, costUsd: 0 };
        break;
      }
      case 'turn.failed': {
        turns += 1;
        const error = isRecord(event.error) ? str(event.error.message) : undefined;
        const message = error ?? lastErrorNotice ?? 'codex turn failed without a message';
        terminal = { ok: false, text: lastMessage, costUsd: 0, error: message };
        classified(terminal, undefined, message);
        break;
      }
      default:
        break;
    }
  }
  if (terminal === undefined) return undefined;
  assign(terminal, 'inputTokens', inputTokens);
  assign(terminal, 'cachedInputTokens', cachedInputTokens);
  assign(terminal, 'outputTokens', outputTokens);
  terminal.turns = turns;
  assign(terminal, 'sessionId', sessionId);
  return terminal;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function addOpt(a: number | undefined, b: number | undefined): number | undefined {
  return b === undefined ? a : (a ?? 0) + b;
}

/** Sets an optional field only when defined (keeps summaries free of `key: undefined`). */
function assign<K extends keyof StreamTerminal>(target: StreamTerminal, key: K, value: StreamTerminal[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}
