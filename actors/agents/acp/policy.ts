/**
 * Answers an ACP agent's permission requests from oxi's tool policy: the claude worker's allow list (Claude Code
 * rules: `Read`, `Edit`, `Bash(npm *)`), scope-aware — an edit outside the workspace, under a blocked prefix, or
 * (writeScope `plan`) outside the plan's files is refused at the tool call. Pure: the runner applies it.
 */
import { isAbsolute, relative, resolve } from 'node:path';

export interface ToolPolicy {
  /** Claude Code permission rules. */
  allowedTools: readonly string[];
  /** The session's working directory (the task's workspace). */
  cwd: string;
  /** Whether the session may write at all (planner and critic: no). */
  writable: boolean;
  /** Repo-relative prefixes no edit may touch (policy.scope.blocked). */
  blocked: readonly string[];
  /** With writeScope `plan`: the only repo-relative files an edit may touch. */
  planFiles?: readonly string[];
}

/** The parts of an ACP tool call the decision reads. */
export interface ToolCallFacts {
  kind?: string | null;
  title?: string | null;
  locations?: Array<{ path: string }> | null;
  rawInput?: unknown;
}

export type Decision = { allow: true; rule: string } | { allow: false; reason: string };

const WRITE_KINDS = new Set(['edit', 'delete', 'move']);
// Why: a shell line is allowed only if every command in it is; these separate commands.
const SHELL_SEPARATORS = /&&|\|\||;|\||\n|`|\$\(/;

/** The claude tool name(s) an ACP tool kind stands for. */
function namesOf(kind: string): string[] {
  switch (kind) {
    case 'read':
      return ['Read'];
    case 'edit':
      return ['Edit', 'Write', 'MultiEdit'];
    case 'delete':
    case 'move':
      return ['Write', 'Edit'];
    case 'search':
      return ['Grep', 'Glob'];
    case 'fetch':
      return ['WebFetch'];
    case 'think':
      return ['*think'];
    default:
      return [];
  }
}

/** The shell command of an execute call: rawInput.command (string or argv), else the title. */
export function commandOf(call: ToolCallFacts): string {
  const input = (call.rawInput ?? {}) as { command?: unknown };
  if (typeof input.command === 'string') return input.command.trim();
  if (Array.isArray(input.command)) return input.command.map(String).join(' ').trim();
  return (call.title ?? '').trim();
}

/** `Bash(git *)` matches `git status`; `Bash` alone matches everything; `Bash(npm test)` exactly that. */
function bashAllows(rules: readonly string[], command: string): string | undefined {
  for (const rule of rules) {
    if (rule === 'Bash') return rule;
    const m = /^Bash\((.*)\)$/.exec(rule);
    if (!m) continue;
    const pattern = new RegExp(`^${m[1].split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (pattern.test(command)) return rule;
  }
  return undefined;
}

function scopeRefusal(policy: ToolPolicy, locations: ReadonlyArray<{ path: string }>): string | undefined {
  if (!policy.writable) return 'this session may not write (planner and critic only read)';
  for (const { path } of locations) {
    const rel = relative(policy.cwd, isAbsolute(path) ? path : resolve(policy.cwd, path));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return `${path} is outside the workspace ${policy.cwd}`;
    const blocked = policy.blocked.find((b) => b !== '' && rel.startsWith(b));
    if (blocked) return `${rel} is under the blocked prefix "${blocked}" (policy.scope.blocked)`;
    if (policy.planFiles && policy.planFiles.length > 0 && !policy.planFiles.includes(rel)) return `${rel} is not one of the plan's files (${policy.planFiles.join(', ')})`;
  }
  return undefined;
}

/** Allow or refuse one tool call, with the rule that allowed it or why not. */
export function decide(policy: ToolPolicy, call: ToolCallFacts): Decision {
  const kind = call.kind ?? 'other';
  if (kind === 'think') return { allow: true, rule: 'think' };
  if (WRITE_KINDS.has(kind)) {
    const why = scopeRefusal(policy, call.locations ?? []);
    if (why) return { allow: false, reason: why };
    if ((call.locations ?? []).length === 0 && policy.planFiles?.length) return { allow: false, reason: 'an edit that names no file cannot be checked against the plan' };
  }
  if (kind === 'execute') {
    if (!policy.writable) return { allow: false, reason: 'this session may not run commands (planner and critic only read)' };
    const command = commandOf(call);
    const parts = command.split(SHELL_SEPARATORS).map((p) => p.trim()).filter(Boolean);
    if (parts.length === 0) return { allow: false, reason: 'a command with no text cannot be checked' };
    const rules = parts.map((p) => bashAllows(policy.allowedTools, p));
    const missing = parts.find((_, i) => !rules[i]);
    return missing === undefined ? { allow: true, rule: rules[0]! } : { allow: false, reason: `\`${missing}\` matches no Bash rule of the allow list (${policy.allowedTools.filter((r) => r.startsWith('Bash')).join(', ') || 'none'})` };
  }
  const names = namesOf(kind);
  const rule = names.find((n) => policy.allowedTools.includes(n));
  if (rule) return { allow: true, rule };
  return { allow: false, reason: `a ${kind} tool call ("${call.title ?? ''}") is not on the allow list (${names.length ? `needs ${names.join(' or ')}` : 'no rule covers this kind'})` };
}
