/**
 * The pure helpers behind the scripted agent's in-process roles (planner, critic).
 * The scripted agent is oxi's embedded STAND-IN for a coding agent: deterministic, offline, no model.
 * The script format itself is in ./script.ts. See docs/scripted-agent.md.
 */
import { scriptedFiles, type Script } from './script.js';

export { BEHAVIOURS, loadScript, resolveTask, validateScript, type Behaviour, type FixStep, type ResolvedTask, type Script, type ScriptTask } from './script.js';

export interface ScriptedPlan {
  files_touched: string[];
  tests: string[];
  dependencies: string[];
  risk: 'low';
  summary: string;
}

/**
 * The planner's final text: a JSON plan listing the script's files, those of its fix steps included
 * (a fix may only touch planned files), empty when the task is not scripted.
 */
export function scriptedPlan(input: { taskId: string; title: string; description?: string; script: Script }): string {
  const plan: ScriptedPlan = {
    files_touched: [...new Set(scriptedFiles(input.script, input.taskId).map(normalizePath))],
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
