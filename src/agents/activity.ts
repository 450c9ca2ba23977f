/**
 * What an agent is doing right now, derived from its stream events (claude stream-json, codex exec --json).
 * Also decides which events are *progress*: retry notices, rate-limit notices, warnings and permission
 * denials are not — a worker that only emits those keeps the stall clock running.
 */
import type { AgentBackend } from './stream.js';

/** `setup`: the workspace setup runs before the worker's first session (docs/workspaces.md). */
export type ActivityKind = 'setup' | 'starting' | 'thinking' | 'tool' | 'permission' | 'retrying' | 'finished';

export interface Activity {
  kind: ActivityKind;
  /** The tool being run (kind `tool` / `permission`). */
  tool?: string;
}

export interface ActivityUpdate {
  activity: Activity;
  progress: boolean;
}

/** One-word label for tables: `tool:Bash`, `thinking`, … */
export function activityLabel(a: Activity | undefined): string {
  if (!a) return '';
  return a.tool ? `${a.kind}:${a.tool}` : a.kind;
}

/** Tracks the last tool call so a tool_result can be attributed to it. */
export class ActivityTracker {
  private readonly tools = new Map<string, string>();
  current: Activity | undefined;

  constructor(private readonly backend: AgentBackend | string) {}

  /** The update an event causes (undefined: the event says nothing about activity and is not progress). */
  see(event: unknown): ActivityUpdate | undefined {
    if (typeof event !== 'object' || event === null) return undefined;
    const update = this.backend === 'codex' ? this.codex(event as Record<string, unknown>) : this.claude(event as Record<string, unknown>);
    if (update) this.current = update.activity;
    return update;
  }

  private claude(e: Record<string, unknown>): ActivityUpdate | undefined {
    switch (e.type) {
      case 'system':
        if (e.subtype === 'init') return { activity: { kind: 'starting' }, progress: true };
        if (e.subtype === 'api_retry') return { activity: { kind: 'retrying' }, progress: false };
        return undefined;
      case 'assistant': {
        if (typeof e.error === 'string') return { activity: { kind: 'retrying' }, progress: false };
        const content = blocks(e.message);
        const tool = [...content].reverse().find((b) => b.type === 'tool_use');
        if (tool) {
          const name = typeof tool.name === 'string' ? tool.name : 'tool';
          if (typeof tool.id === 'string') this.tools.set(tool.id, name);
          return { activity: { kind: 'tool', tool: name }, progress: true };
        }
        return { activity: { kind: 'thinking' }, progress: true };
      }
      case 'user': {
        const results = blocks(e.message).filter((b) => b.type === 'tool_result');
        if (results.length === 0) return undefined;
        const denied = results.find((r) => r.is_error === true && isPermissionText(r.content));
        if (denied) {
          const tool = typeof denied.tool_use_id === 'string' ? this.tools.get(denied.tool_use_id) : undefined;
          return { activity: tool ? { kind: 'permission', tool } : { kind: 'permission' }, progress: false };
        }
        return { activity: { kind: 'thinking' }, progress: true };
      }
      case 'result':
        return { activity: { kind: 'finished' }, progress: true };
      default:
        // stream_event, rate_limit_event, system/status, hooks…: not progress on their own.
        return undefined;
    }
  }

  private codex(e: Record<string, unknown>): ActivityUpdate | undefined {
    const item = typeof e.item === 'object' && e.item !== null ? (e.item as Record<string, unknown>) : {};
    switch (e.type) {
      case 'thread.started':
        return { activity: { kind: 'starting' }, progress: true };
      case 'turn.started':
        return { activity: { kind: 'thinking' }, progress: true };
      case 'item.started':
      case 'item.updated':
      case 'item.completed': {
        if (item.type === 'error') return undefined; // non-fatal warning
        const tool = codexTool(item);
        if (tool && item.status === 'declined') return { activity: { kind: 'permission', tool }, progress: false };
        if (tool && e.type !== 'item.completed') return { activity: { kind: 'tool', tool }, progress: true };
        return { activity: { kind: 'thinking' }, progress: true };
      }
      case 'error':
        return { activity: { kind: 'retrying' }, progress: false };
      case 'turn.completed':
      case 'turn.failed':
        return { activity: { kind: 'finished' }, progress: true };
      default:
        return undefined;
    }
  }
}

function codexTool(item: Record<string, unknown>): string | undefined {
  switch (item.type) {
    case 'command_execution':
      return 'shell';
    case 'file_change':
      return 'edit';
    case 'mcp_tool_call':
      return typeof item.tool === 'string' ? item.tool : 'mcp';
    case 'web_search':
      return 'web_search';
    default:
      return undefined;
  }
}

function blocks(message: unknown): Array<Record<string, unknown>> {
  if (typeof message !== 'object' || message === null) return [];
  const content = (message as { content?: unknown }).content;
  return Array.isArray(content) ? content.filter((b): b is Record<string, unknown> => typeof b === 'object' && b !== null) : [];
}

// Why: claude reports a denied tool as an error tool_result whose text asks for approval/permission.
const PERMISSION_TEXT = /requires approval|requested permissions|permission to use|haven't granted|was blocked/i;

function isPermissionText(content: unknown): boolean {
  const text = typeof content === 'string' ? content : JSON.stringify(content ?? '');
  return PERMISSION_TEXT.test(text);
}
