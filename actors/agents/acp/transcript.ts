/**
 * Writes an ACP session as oxi's agent stream: the same NDJSON dialect claude's stream-json uses (system/init,
 * assistant text/thinking/tool_use, user tool_result, result), so parsing, activity, `oxi tail`, the transcript
 * and the stall clock treat an ACP agent like any other. Message chunks are gathered into one assistant event.
 */

type Event = Record<string, unknown>;
type Update = Record<string, unknown> & { sessionUpdate: string };

export interface Denial {
  tool_name: string;
  tool_use_id: string;
  tool_input: unknown;
}

function textOf(content: unknown): string {
  const c = (content ?? {}) as { type?: string; text?: unknown };
  return c.type === 'text' && typeof c.text === 'string' ? c.text : '';
}

/** The text of a tool call's content list (`{type:"content", content:{type:"text"}}`, diffs by path). */
function toolContent(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .map((c: { type?: string; content?: unknown; path?: string }) => (c.type === 'content' ? textOf(c.content) : c.type === 'diff' ? `diff ${c.path ?? ''}` : ''))
    .filter(Boolean)
    .join('\n');
}

export class AcpTranscript {
  private text = '';
  private thought = '';
  private lastText = '';
  private readonly titles = new Map<string, string>();
  private readonly answered = new Set<string>();
  readonly denials: Denial[] = [];
  /** The session's cumulative cost as the agent last reported it (USD), and what it was when this run began. */
  private cost: number | undefined;
  private costBaseline = 0;
  turns = 0;

  constructor(private readonly write: (event: Event) => void, private sessionId = '') {}

  begin(sessionId: string, info: { model?: string; cwd: string; agent?: string }): void {
    this.sessionId = sessionId;
    this.emit({ type: 'system', subtype: 'init', cwd: info.cwd, model: info.model ?? info.agent ?? 'acp', permissionMode: 'acp', tools: [], agent: info.agent ?? null });
  }

  /** A replayed update of a loaded session (history): only its cost counts, as the baseline. */
  replayed(update: Update): void {
    const cost = this.usdOf(update);
    if (cost !== undefined) this.costBaseline = cost;
  }

  /** The prompt of this turn, as the user event claude's stream shows for a replayed prompt. */
  prompt(text: string): void {
    this.emit({ type: 'user', message: { role: 'user', content: text } });
  }

  update(update: Update): void {
    switch (update.sessionUpdate) {
      case 'agent_message_chunk':
        this.flushThought();
        this.text += textOf(update.content);
        return;
      case 'agent_thought_chunk':
        this.flushText();
        this.thought += textOf(update.content);
        return;
      case 'tool_call': {
        this.flush();
        const id = String(update.toolCallId);
        const name = String(update.title ?? update.kind ?? 'tool');
        this.titles.set(id, name);
        this.turns += 1;
        this.emit({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'tool_use', id, name, input: update.rawInput ?? { kind: update.kind ?? null, locations: update.locations ?? [] } }] } });
        return;
      }
      case 'tool_call_update': {
        const id = String(update.toolCallId);
        if (update.status !== 'completed' && update.status !== 'failed') return;
        if (this.answered.has(id)) return; // refused by oxi: its result is already written
        this.flush();
        this.emit({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: toolContent(update.content) || String(update.status), is_error: update.status === 'failed' }] } });
        return;
      }
      case 'usage_update': {
        const cost = this.usdOf(update);
        if (cost !== undefined) this.cost = cost;
        return;
      }
      default:
        return; // plans, modes, commands, notices: not transcript lines
    }
  }

  /** oxi refused a tool call: a blocked tool result (activity `permission`), and a denial in the result. */
  deny(toolCallId: string, title: string, input: unknown, reason: string): void {
    this.flush();
    this.answered.add(toolCallId);
    this.denials.push({ tool_name: this.titles.get(toolCallId) ?? title, tool_use_id: toolCallId, tool_input: input ?? null });
    this.emit({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolCallId, content: `This tool call was blocked by oxi's tool policy: ${reason}`, is_error: true }] } });
  }

  /** What this run cost so far (undefined: the agent reports no cost). */
  get costUsd(): number | undefined {
    return this.cost === undefined ? undefined : Math.max(0, this.cost - this.costBaseline);
  }

  /** The terminal event; `error` makes it a failed run (errors[] carries it, as claude's error results do). */
  result(stopReason: string, usage: { inputTokens?: number; outputTokens?: number } | undefined, error?: { subtype: string; message: string }): void {
    this.flush();
    const failed = error ?? (stopReason === 'end_turn' ? undefined : { subtype: 'error_during_execution', message: `the agent stopped with ${stopReason}` });
    const event: Event = {
      type: 'result',
      subtype: failed ? failed.subtype : 'success',
      is_error: failed !== undefined,
      num_turns: Math.max(1, this.turns),
      result: this.lastText,
      stop_reason: stopReason,
      usage: { input_tokens: usage?.inputTokens ?? 0, output_tokens: usage?.outputTokens ?? 0 },
      permission_denials: this.denials,
    };
    if (this.costUsd !== undefined) event.total_cost_usd = this.costUsd;
    if (failed) event.errors = [failed.message];
    this.emit(event);
  }

  private usdOf(update: Update): number | undefined {
    if (update.sessionUpdate !== 'usage_update') return undefined;
    const cost = update.cost as { amount?: unknown; currency?: unknown } | null | undefined;
    return cost && typeof cost.amount === 'number' && String(cost.currency).toUpperCase() === 'USD' ? cost.amount : undefined;
  }

  private flush(): void {
    this.flushThought();
    this.flushText();
  }

  private flushText(): void {
    if (!this.text) return;
    this.lastText = this.text;
    this.emit({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: this.text }] } });
    this.text = '';
  }

  private flushThought(): void {
    if (!this.thought) return;
    this.emit({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'thinking', thinking: this.thought }] } });
    this.thought = '';
  }

  private emit(event: Event): void {
    this.write({ ...event, session_id: this.sessionId });
  }
}
