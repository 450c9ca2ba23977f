/**
 * The scripted agent's script file and the pure helpers behind its in-process roles (planner, critic).
 * The scripted agent is oxi's embedded STAND-IN for a coding agent: deterministic, offline, no model.
 * See docs/scripted-agent.md.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/errors.js';

export const BEHAVIOURS = ['ok', 'slow', 'hang', 'crash', 'uncommitted', 'garbage', 'fail_first'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

export interface ScriptTask {
  /** Relative path → full file content, written into the worktree. */
  files?: Record<string, string>;
  /** Default true. */
  commit?: boolean;
  /** Default 'ok'. */
  behaviour?: Behaviour;
  /** Time spent "working" with a progress event every ~200 ms (default 0; 3000 for 'slow'). */
  delayMs?: number;
  /** Reported as total_cost_usd (default 0.02). */
  costUsd?: number;
  commitMessage?: string;
}

export interface Script {
  tasks: Record<string, ScriptTask>;
  defaults?: ScriptTask;
}

/** A task with defaults applied. */
export interface ResolvedTask {
  files: Record<string, string>;
  commit: boolean;
  behaviour: Behaviour;
  delayMs: number;
  costUsd: number;
  commitMessage: string;
}

const FIX = 'A scripted-agent script looks like {"tasks": {"<taskId>": {"files": {"src/a.ts": "…"}}}}; see docs/scripted-agent.md.';

/** Reads and validates a script file; throws ConfigError naming the file and the offending field. */
export function loadScript(path: string): Script {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigError(`Scripted-agent script ${path} could not be read (${code ?? (cause as Error).message}).`, {
      fix: `Create ${path} or point --script at an existing file. ${FIX}`,
      cause,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`Scripted-agent script ${path} is not valid JSON: ${(cause as Error).message}.`, { fix: FIX, cause });
  }
  return validateScript(value, path);
}

/** Validates an already-parsed script (exported for in-process callers that hold the object). */
export function validateScript(value: unknown, source = 'script'): Script {
  const fail = (what: string): never => {
    throw new ConfigError(`Scripted-agent ${source}: expected ${what}.`, { fix: FIX });
  };
  if (!isObject(value)) return fail('a JSON object at the top level');
  if (!isObject(value.tasks)) return fail('"tasks" to be an object keyed by task id');
  const tasks: Record<string, ScriptTask> = {};
  for (const [id, task] of Object.entries(value.tasks)) tasks[id] = validateTask(task, `tasks.${id}`, fail);
  const script: Script = { tasks };
  if (value.defaults !== undefined) script.defaults = validateTask(value.defaults, 'defaults', fail);
  return script;
}

function validateTask(value: unknown, at: string, fail: (what: string) => never): ScriptTask {
  if (!isObject(value)) return fail(`${at} to be an object`);
  const task: ScriptTask = {};
  if (value.files !== undefined) {
    if (!isObject(value.files)) return fail(`${at}.files to be an object of path → content`);
    for (const [path, content] of Object.entries(value.files)) {
      if (typeof content !== 'string') fail(`${at}.files["${path}"] to be a string`);
      if (path === '' || path.startsWith('/') || path.split(/[\\/]/).includes('..')) fail(`${at}.files key "${path}" to be a relative path inside the worktree`);
    }
    task.files = value.files as Record<string, string>;
  }
  if (value.commit !== undefined) task.commit = typeof value.commit === 'boolean' ? value.commit : fail(`${at}.commit to be a boolean`);
  if (value.behaviour !== undefined) {
    if (!(BEHAVIOURS as readonly unknown[]).includes(value.behaviour)) fail(`${at}.behaviour to be one of ${BEHAVIOURS.join(', ')}`);
    task.behaviour = value.behaviour as Behaviour;
  }
  if (value.delayMs !== undefined) task.delayMs = isNonNegative(value.delayMs) ? value.delayMs : fail(`${at}.delayMs to be a number ≥ 0`);
  if (value.costUsd !== undefined) task.costUsd = isNonNegative(value.costUsd) ? value.costUsd : fail(`${at}.costUsd to be a number ≥ 0`);
  if (value.commitMessage !== undefined) {
    task.commitMessage = typeof value.commitMessage === 'string' && value.commitMessage.trim() !== '' ? value.commitMessage : fail(`${at}.commitMessage to be a non-empty string`);
  }
  return task;
}

/** The task's entry with defaults applied field by field; undefined when the task id is absent from `tasks`. */
export function resolveTask(script: Script, taskId: string): ResolvedTask | undefined {
  if (!Object.hasOwn(script.tasks, taskId)) return undefined;
  const merged: ScriptTask = { ...script.defaults, ...script.tasks[taskId] };
  const behaviour = merged.behaviour ?? 'ok';
  return {
    files: merged.files ?? {},
    commit: merged.commit ?? true,
    behaviour,
    delayMs: merged.delayMs ?? (behaviour === 'slow' ? 3000 : 0),
    costUsd: merged.costUsd ?? 0.02,
    commitMessage: merged.commitMessage ?? `oxi(${taskId}): scripted change`,
  };
}

export interface ScriptedPlan {
  files_touched: string[];
  tests: string[];
  dependencies: string[];
  risk: 'low';
  summary: string;
}

/** The planner's final text: a JSON plan listing the script's files (empty when the task is not scripted). */
export function scriptedPlan(input: { taskId: string; title: string; description?: string; script: Script }): string {
  const task = resolveTask(input.script, input.taskId);
  const plan: ScriptedPlan = {
    files_touched: Object.keys(task?.files ?? {}).map(normalizePath),
    tests: [],
    dependencies: [],
    risk: 'low',
    summary: input.title,
  };
  return JSON.stringify(plan);
}

export interface Verdict {
  verdict: 'approve' | 'reject';
  reasons: string[];
}

/**
 * The critic's final text: reject an empty diff, a file outside the plan, or a file under a sensitive prefix.
 * `plan` is the plan object or the planner's JSON text.
 */
export function scriptedCritique(input: {
  plan: { files_touched?: readonly string[] } | string;
  diff: string;
  changedFiles: readonly string[];
  sensitive: readonly string[];
}): string {
  const planned = new Set(plannedFiles(input.plan).map(normalizePath));
  const reasons: string[] = [];
  if (input.diff.trim() === '') reasons.push('the diff is empty: the worker changed nothing');
  for (const raw of input.changedFiles) {
    const file = normalizePath(raw);
    if (!planned.has(file)) reasons.push(`${file} is not in the plan's files_touched`);
    const prefix = input.sensitive.find((p) => p !== '' && file.startsWith(normalizePath(p)));
    if (prefix !== undefined) reasons.push(`${file} touches the sensitive path ${prefix}`);
  }
  const verdict: Verdict = reasons.length === 0 ? { verdict: 'approve', reasons: ['the diff matches the plan'] } : { verdict: 'reject', reasons };
  return JSON.stringify(verdict);
}

function plannedFiles(plan: { files_touched?: readonly string[] } | string): readonly string[] {
  let value: unknown = plan;
  if (typeof plan === 'string') {
    try {
      value = JSON.parse(plan);
    } catch {
      return [];
    }
  }
  const files = isObject(value) ? value.files_touched : undefined;
  return Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : [];
}

/** `./src/a.ts` and `src/a.ts` name the same file. */
function normalizePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
