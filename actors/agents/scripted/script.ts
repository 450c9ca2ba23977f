/**
 * The scripted agent's script file: its zod schema, loading with clear errors, and the resolution of
 * what one worker run does (first attempt, or fix N with its own files). See docs/scripted-agent.md.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../../src/errors.js';

export const BEHAVIOURS = ['ok', 'slow', 'hang', 'crash', 'uncommitted', 'garbage', 'fail_first'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

const insideWorktree = (path: string) => path !== '' && !path.startsWith('/') && !path.split(/[\\/]/).includes('..');

/** Messages are predicates: the formatter puts `expected <where>` in front of them. */
const files = z.record(
  z.string().refine(insideWorktree),
  z.string({ error: 'to be a string' }),
  { error: (issue) => (issue.code === 'invalid_key' ? 'to be a relative path inside the worktree (no leading /, no ..)' : 'to be an object of path → content') },
);
const nonNegative = z.number({ error: 'to be a number ≥ 0' }).finite({ error: 'to be a number ≥ 0' }).min(0, { error: 'to be a number ≥ 0' });

/** The fields a task and a fix step share. */
const stepFields = {
  /** Relative path → full file content, written into the worktree. */
  files: files.optional(),
  /** Default true. */
  commit: z.boolean({ error: 'to be a boolean' }).optional(),
  /** Default 'ok'. */
  behaviour: z.enum(BEHAVIOURS, { error: `to be one of ${BEHAVIOURS.join(', ')}` }).optional(),
  /** Time spent "working" with a progress event every ~200 ms (default 0; 3000 for 'slow'). */
  delayMs: nonNegative.optional(),
  /** Reported as total_cost_usd (default 0.02). */
  costUsd: nonNegative.optional(),
  commitMessage: z.string({ error: 'to be a non-empty string' }).refine((m) => m.trim() !== '', { error: 'to be a non-empty string' }).optional(),
};

const strict = <T extends z.core.$ZodLooseShape>(shape: T, what: string) =>
  z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `to have only the fields ${Object.keys(shape).join(', ')} (unknown: ${issue.keys.join(', ')})` : `to be ${what}`),
  });

/** One fix attempt: what the worker does when the task comes back with feedback (checks red, critic, review). */
const fixStepSchema = strict(
  {
    ...stepFields,
    /** The worker fails unless its prompt contains this text: proof that the feedback reached it. */
    feedbackIncludes: z.string({ error: 'to be a non-empty string' }).min(1, { error: 'to be a non-empty string' }).optional(),
  },
  'an object (a fix step)',
);

const taskSchema = strict(
  {
    ...stepFields,
    /** Fix N (1-based) runs fixes[N-1]; past the end, the last step again. Absent: a fix repeats the task's own files. */
    fixes: z.array(fixStepSchema, { error: 'to be a list of fix steps' }).min(1, { error: 'to hold at least one fix step' }).optional(),
  },
  'an object',
);

const scriptSchema = strict(
  {
    tasks: z.record(z.string(), taskSchema, { error: 'to be an object keyed by task id' }),
    defaults: taskSchema.optional(),
  },
  'a JSON object at the top level',
);

export type FixStep = z.infer<typeof fixStepSchema>;
export type ScriptTask = z.infer<typeof taskSchema>;
export type Script = z.infer<typeof scriptSchema>;

/** What one worker run does, with defaults applied. */
export interface ResolvedTask {
  files: Record<string, string>;
  commit: boolean;
  behaviour: Behaviour;
  delayMs: number;
  costUsd: number;
  commitMessage: string;
  /** Set on a fix step that demands it: text the prompt must contain. */
  feedbackIncludes?: string;
}

const FIX = 'A scripted-agent script looks like {"tasks": {"<taskId>": {"files": {"src/a.ts": "…"}, "fixes": [{"files": {…}}]}}}; see docs/scripted-agent.md.';

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
  const result = scriptSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => {
    const key = issue.code === 'invalid_key' ? issue.path.at(-1) : undefined;
    const path = key === undefined ? issue.path : issue.path.slice(0, -1);
    const at = path.length === 0 ? 'the script' : key === undefined ? where(path) : `${where(path)} key "${String(key)}"`;
    // The unknown keys and the bad key already say what came; other issues show the value.
    const got = issue.code === 'invalid_key' || issue.code === 'unrecognized_keys' ? '' : `, got ${brief(valueAt(value, issue.path))}`;
    return `expected ${at} ${issue.message}${got}`;
  });
  throw new ConfigError(`Scripted-agent ${source}: ${problems.join('; ')}.`, { fix: FIX });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const part of path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  return value;
}

function brief(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** `tasks.T0-101.files["src/a.ts"]`, `tasks.a.fixes[0].files`: the way a user would point at the field. */
function where(path: readonly PropertyKey[]): string {
  if (path.length === 1) return `"${String(path[0])}"`;
  let out = '';
  path.forEach((part, i) => {
    if (typeof part === 'number') out += `[${part}]`;
    else if (path[i - 1] === 'files') out += `["${String(part)}"]`;
    else out += `${i === 0 ? '' : '.'}${String(part)}`;
  });
  return out;
}

/**
 * What the worker does for `taskId` on fix `fix` (0 = not a fix): the task's entry with defaults applied
 * field by field, then, on a fix, the fix step's fields on top. Undefined when the task id is absent.
 */
export function resolveTask(script: Script, taskId: string, fix = 0): ResolvedTask | undefined {
  taskId = scriptKey(script, taskId);
  if (!Object.hasOwn(script.tasks, taskId)) return undefined;
  const { fixes, ...own } = { ...script.defaults, ...script.tasks[taskId] };
  const baseMessage = own.commitMessage ?? `oxi(${taskId}): scripted change`;
  const step = fix > 0 && fixes ? fixes[Math.min(fix, fixes.length) - 1] : undefined;
  const merged = { ...own, ...step };
  const behaviour = merged.behaviour ?? 'ok';
  return {
    files: merged.files ?? {},
    commit: merged.commit ?? true,
    behaviour,
    delayMs: merged.delayMs ?? (behaviour === 'slow' ? 3000 : 0),
    costUsd: merged.costUsd ?? 0.02,
    commitMessage: step ? (step.commitMessage ?? `${baseMessage} (fix ${fix})`) : baseMessage,
    ...(step?.feedbackIncludes !== undefined ? { feedbackIncludes: step.feedbackIncludes } : {}),
  };
}

/** Every file the task may write, first attempt and fixes, in order: what its plan must cover. */
/**
 * The script's entry for an engine task id: the id itself, else (a task `<repo>/<id>` of an adapter with
 * `repos`) its roadmap id, so one script can serve every repository by full or bare ids.
 */
export function scriptKey(script: Script, taskId: string): string {
  if (Object.hasOwn(script.tasks, taskId)) return taskId;
  const bare = /^[a-z0-9][a-z0-9-]*\/(.+)$/.exec(taskId)?.[1];
  return bare !== undefined && Object.hasOwn(script.tasks, bare) ? bare : taskId;
}

export function scriptedFiles(script: Script, taskId: string): string[] {
  taskId = scriptKey(script, taskId);
  if (!Object.hasOwn(script.tasks, taskId)) return [];
  const task = { ...script.defaults, ...script.tasks[taskId] };
  const all = [task.files ?? {}, ...(task.fixes ?? []).map((s) => s.files ?? {})].flatMap((f) => Object.keys(f));
  return [...new Set(all)];
}
