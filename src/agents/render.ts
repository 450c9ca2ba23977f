/**
 * Human form of agent stream events (claude stream-json and codex exec --json) for `oxi tail`.
 * One short line per event that says something; undefined for events not worth a line.
 */

const MAX = 160;

function short(text: unknown): string {
  const s = (typeof text === 'string' ? text : JSON.stringify(text ?? '')).replace(/\s+/g, ' ').trim();
  return s.length > MAX ? `${s.slice(0, MAX - 1)}…` : s;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function toolInput(name: string, input: Record<string, unknown>): string {
  const main = input.command ?? input.file_path ?? input.path ?? input.pattern ?? input.url;
  return main === undefined ? `${name} ${short(input)}` : `${name} ${short(main)}`;
}

export function renderEvent(event: unknown): string | undefined {
  const e = record(event);
  switch (e.type) {
    // ---- claude
    case 'system':
      if (e.subtype === 'init') return `▶ session ${String(e.session_id ?? '?')} · model ${String(e.model ?? '?')} · ${String(e.permissionMode ?? '')} · cwd ${String(e.cwd ?? '')}`;
      if (e.subtype === 'api_retry') return `⟳ API retry ${String(e.attempt)}/${String(e.max_retries)} (${String(e.error_status ?? e.error ?? '')})`;
      return undefined;
    case 'assistant': {
      const lines: string[] = [];
      if (typeof e.error === 'string') lines.push(`✘ API error: ${e.error}`);
      for (const b of (record(e.message).content as unknown[]) ?? []) {
        const block = record(b);
        if (block.type === 'text' && typeof block.text === 'string' && block.text.trim()) lines.push(`💬 ${short(block.text)}`);
        if (block.type === 'thinking') lines.push('… thinking');
        if (block.type === 'tool_use') lines.push(`🔧 ${toolInput(String(block.name), record(block.input))}`);
      }
      return lines.length ? lines.join('\n') : undefined;
    }
    case 'user': {
      const content = record(e.message).content;
      // A prompt replayed as a user turn (the scripted worker, claude's --replay-user-messages): plain text.
      if (typeof content === 'string') return content.trim() ? `👤 ${short(content)}` : undefined;
      const lines: string[] = [];
      for (const b of Array.isArray(content) ? content : []) {
        const block = record(b);
        if (block.type === 'tool_result') lines.push(`  ${block.is_error ? '✘' : '↳'} ${short(block.content)}`);
      }
      return lines.length ? lines.join('\n') : undefined;
    }
    case 'result': {
      const cost = typeof e.total_cost_usd === 'number' ? `$${e.total_cost_usd.toFixed(4)}` : '$?';
      const denials = Array.isArray(e.permission_denials) && e.permission_denials.length ? ` · ${e.permission_denials.length} permission denial(s)` : '';
      if (e.is_error === false) return `✔ done · ${cost} · ${String(e.num_turns ?? '?')} turns${denials}\n  ${short(e.result)}`;
      const errors = Array.isArray(e.errors) ? e.errors.join('; ') : e.result;
      return `✘ ${String(e.subtype)}${e.api_error_status ? ` (HTTP ${String(e.api_error_status)})` : ''} · ${cost}: ${short(errors)}`;
    }
    // ---- codex
    case 'thread.started':
      return `▶ thread ${String(e.thread_id ?? '?')}`;
    case 'turn.started':
      return '… turn started';
    case 'item.started':
    case 'item.completed': {
      const item = record(e.item);
      if (item.type === 'command_execution') return e.type === 'item.started' ? `🔧 shell ${short(item.command)}` : `  ↳ exit ${String(item.exit_code ?? '?')}: ${short(item.aggregated_output)}`;
      if (item.type === 'file_change') return `✎ ${short((item.changes as unknown[] | undefined)?.map((c) => `${String(record(c).kind)} ${String(record(c).path)}`).join(', '))}`;
      if (item.type === 'agent_message') return `💬 ${short(item.text)}`;
      if (item.type === 'reasoning') return `… ${short(item.text)}`;
      if (item.type === 'error') return `⚠ ${short(item.message)}`;
      return undefined;
    }
    case 'error':
      return `⟳ ${short(e.message)}`;
    case 'turn.completed': {
      const usage = record(e.usage);
      return `✔ turn done · ${String(usage.input_tokens ?? '?')} in / ${String(usage.output_tokens ?? '?')} out tokens`;
    }
    case 'turn.failed':
      return `✘ turn failed: ${short(record(e.error).message)}`;
    default:
      return undefined;
  }
}
