/**
 * Agent stream events (claude stream-json, codex exec --json) as transcript items the page renders:
 * messages, tool calls (input) and their results (matched by id), permission denials, errors.
 * The structured sibling of src/agents/render.ts (which makes one line per event for `oxi tail`).
 */
import { sanitize } from '../sanitize.js';

export type TranscriptItem =
  | { kind: 'session'; text: string }
  | { kind: 'user' | 'text' | 'thinking'; text: string }
  | { kind: 'tool'; id: string; name: string; input: unknown }
  | { kind: 'tool_result'; id: string; output: string; isError: boolean }
  | { kind: 'denial'; name: string; input: unknown }
  | { kind: 'error'; text: string }
  | { kind: 'result'; ok: boolean; text: string; costUsd: number | null; turns: number | null };

const MAX_TEXT = 20_000;
const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string => {
  const s = typeof v === 'string' ? v : Array.isArray(v) ? v.map((b) => (typeof rec(b).text === 'string' ? rec(b).text : JSON.stringify(b))).join('\n') : JSON.stringify(v ?? '');
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}… (${s.length - MAX_TEXT} more characters)` : s;
};

function claudeItems(e: Record<string, unknown>): TranscriptItem[] {
  const out: TranscriptItem[] = [];
  if (e.type === 'system' && e.subtype === 'init') out.push({ kind: 'session', text: `session ${str(e.session_id)} · model ${str(e.model)} · ${String(e.permissionMode ?? '')}` });
  if (e.type === 'system' && e.subtype === 'api_retry') out.push({ kind: 'error', text: `API retry ${String(e.attempt)}/${String(e.max_retries)} (${String(e.error_status ?? e.error ?? '')})` });
  if (e.type === 'assistant') {
    if (typeof e.error === 'string') out.push({ kind: 'error', text: `API error: ${e.error}` });
    for (const b of (rec(e.message).content as unknown[]) ?? []) {
      const block = rec(b);
      if (block.type === 'text' && typeof block.text === 'string' && block.text.trim()) out.push({ kind: 'text', text: str(block.text) });
      if (block.type === 'thinking') out.push({ kind: 'thinking', text: str(block.thinking ?? '') });
      if (block.type === 'tool_use') out.push({ kind: 'tool', id: String(block.id ?? ''), name: String(block.name ?? '?'), input: sanitize(block.input ?? {}) });
    }
  }
  if (e.type === 'user') {
    const content = rec(e.message).content;
    if (typeof content === 'string' && content.trim()) out.push({ kind: 'user', text: str(content) });
    for (const b of Array.isArray(content) ? content : []) {
      const block = rec(b);
      if (block.type === 'tool_result') out.push({ kind: 'tool_result', id: String(block.tool_use_id ?? ''), output: str(block.content), isError: block.is_error === true });
      if (block.type === 'text' && typeof block.text === 'string') out.push({ kind: 'user', text: str(block.text) });
    }
  }
  if (e.type === 'result') {
    for (const d of Array.isArray(e.permission_denials) ? e.permission_denials : []) out.push({ kind: 'denial', name: String(rec(d).tool_name ?? '?'), input: sanitize(rec(d).tool_input ?? {}) });
    const ok = e.is_error === false;
    const text = ok ? str(e.result ?? '') : `${String(e.subtype ?? 'error')}${e.api_error_status ? ` (HTTP ${String(e.api_error_status)})` : ''}: ${str(Array.isArray(e.errors) ? e.errors.join('; ') : e.result)}`;
    out.push({ kind: 'result', ok, text, costUsd: typeof e.total_cost_usd === 'number' ? e.total_cost_usd : null, turns: typeof e.num_turns === 'number' ? e.num_turns : null });
  }
  return out;
}

function codexItems(e: Record<string, unknown>): TranscriptItem[] {
  if (e.type === 'thread.started') return [{ kind: 'session', text: `thread ${str(e.thread_id)}` }];
  if (e.type === 'error') return [{ kind: 'error', text: str(e.message) }];
  if (e.type === 'turn.failed') return [{ kind: 'error', text: `turn failed: ${str(rec(e.error).message)}` }];
  if (e.type === 'turn.completed') {
    const u = rec(e.usage);
    return [{ kind: 'result', ok: true, text: `${String(u.input_tokens ?? '?')} in / ${String(u.output_tokens ?? '?')} out tokens`, costUsd: null, turns: null }];
  }
  if (e.type !== 'item.started' && e.type !== 'item.completed') return [];
  const item = rec(e.item);
  const id = String(item.id ?? '');
  if (item.type === 'command_execution') {
    return e.type === 'item.started'
      ? [{ kind: 'tool', id, name: 'shell', input: { command: item.command } }]
      : [{ kind: 'tool_result', id, output: `exit ${String(item.exit_code ?? '?')}\n${str(item.aggregated_output ?? '')}`, isError: item.exit_code !== 0 }];
  }
  if (e.type !== 'item.completed') return [];
  if (item.type === 'file_change') return [{ kind: 'tool', id, name: 'edit', input: sanitize(item.changes ?? []) }];
  if (item.type === 'agent_message') return [{ kind: 'text', text: str(item.text) }];
  if (item.type === 'reasoning') return [{ kind: 'thinking', text: str(item.text) }];
  if (item.type === 'error') return [{ kind: 'error', text: str(item.message) }];
  return [];
}

export function transcriptItems(event: unknown): TranscriptItem[] {
  const e = rec(event);
  return typeof e.type === 'string' && (e.type.includes('.') || e.type === 'error') ? codexItems(e) : claudeItems(e);
}
