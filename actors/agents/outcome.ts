/**
 * Turns what an agent CLI left behind (its stream, its exit) into an AgentOutcome, the same way for
 * waited runs (planner, critic) and detached workers read back from their stream file.
 */
import { classifyExit, parseAgentStream, type AgentBackend, type StreamTerminal } from '../../src/agents/stream.js';
import type { AgentOutcome } from '../../src/ports.js';
import type { WaitedResult } from './waited.js';

export interface OutcomeContext {
  backend: AgentBackend;
  model?: string;
  /** codex reports tokens only: the backend prices them. */
  price?: (terminal: StreamTerminal) => number;
}

export function outcomeFromTerminal(t: StreamTerminal, ctx: OutcomeContext): AgentOutcome {
  const outcome: AgentOutcome = {
    ok: t.ok,
    text: t.text,
    usage: { costUsd: ctx.price ? ctx.price(t) : t.costUsd, inputTokens: t.inputTokens, outputTokens: t.outputTokens, turns: t.turns },
    backend: ctx.backend,
  };
  if (ctx.model !== undefined) outcome.model = ctx.model;
  if (t.sessionId !== undefined) outcome.sessionId = t.sessionId;
  if (!t.ok) {
    outcome.kind = t.kind ?? 'failed';
    outcome.error = t.error ?? 'the agent reported an error';
    if (t.resetAt !== undefined) outcome.resetAt = t.resetAt;
    if (t.retryAfterMs !== undefined) outcome.retryAfterMs = t.retryAfterMs;
  }
  if (t.permissionDenials) outcome.permissionDenials = t.permissionDenials;
  return outcome;
}

/** A finished stream (undefined: no terminal event). */
export function outcomeFromStream(text: string, ctx: OutcomeContext): AgentOutcome | undefined {
  const t = parseAgentStream(text, ctx.backend).terminal;
  return t ? outcomeFromTerminal(t, ctx) : undefined;
}

/** A waited run: its terminal event, else its exit (our stall / wall-clock kill, a SIGTERM: outages; else failed). */
export function outcomeFromRun(run: WaitedResult, ctx: OutcomeContext): AgentOutcome {
  const fromStream = outcomeFromStream(run.stdout, ctx);
  if (fromStream && !run.timedOut) return fromStream;
  const stderr = run.stderrTail.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
  const how = run.timedOut
    ? run.timedOut === 'wall' ? 'hit the wall-clock timeout and was terminated' : 'made no progress within the stall timeout and was terminated'
    : `exited with ${run.signal ?? `code ${run.exitCode ?? 'unknown'}`} without a result event`;
  const kind = classifyExit({ exitCode: run.exitCode, signal: run.signal, timedOut: run.timedOut || null });
  return {
    ok: false,
    kind,
    error: `${ctx.backend} ${how}${stderr ? `: ${stderr}` : ''}`,
    text: fromStream?.text ?? '',
    usage: fromStream?.usage ?? { costUsd: 0 },
    backend: ctx.backend,
    ...(ctx.model === undefined ? {} : { model: ctx.model }),
    ...(fromStream?.sessionId === undefined ? {} : { sessionId: fromStream.sessionId }),
  };
}
