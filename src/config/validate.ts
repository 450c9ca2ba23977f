/**
 * `validateConfig`: raw value (whatever the config file exported) → resolved `Adapter`.
 * Pure: no fs. Parses with the zod schema, resolves every local path against the config file's
 * directory, and on failure throws ONE ConfigError listing every problem as
 * `- <dotted.path>: expected <what>, got <what came>`, with hints in `fix`.
 */
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { schemaAt } from './describe.js';
import { adapterSchema, defaultMaxLiveTasks, repoSchema, type Adapter, type ParsedAdapter, type RepoView } from './schema.js';

export function validateConfig(raw: unknown, opts: { configPath: string }): Adapter {
  const configPath = resolve(opts.configPath);
  const result = adapterSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw configErrorFromIssues(result.error.issues, raw, configPath);
  return resolvePaths(result.data, dirname(configPath));
}

// ---------------------------------------------------------------- path resolution

function resolvePaths(a: ParsedAdapter, dir: string): Adapter {
  const local = (p: string) => resolve(dir, expandHome(p));
  const stateDir = local(a.paths.stateDir);
  const { repos: entries, repo: single, ...rest } = a;
  const repos = entries === undefined ? undefined : resolveRepos(a, local);
  const repo = single ?? repoSchema.parse({})!;
  return {
    ...rest,
    // With `repos`, the top-level repo and roadmap are the first repository's (per-task code reads its own: src/config/repos.ts).
    repo: repos ? repos[0].repo : { ...repo, path: local(repo.path) },
    ...(repos ? { roadmap: repos[0].roadmap, roadmapSource: repos[0].roadmapSource } : resolveRoadmap(a.roadmap, local)),
    ...(repos ? { repos } : {}),
    paths: {
      stateDir,
      db: a.paths.db === undefined ? join(stateDir, 'oxi.db') : local(a.paths.db),
      logs: a.paths.logs === undefined ? join(stateDir, 'logs') : local(a.paths.logs),
      worktreesRoot: a.paths.worktreesRoot === undefined ? join(stateDir, 'worktrees') : local(a.paths.worktreesRoot),
    },
    engine: { ...a.engine, maxLiveTasks: a.engine.maxLiveTasks ?? defaultMaxLiveTasks(a.hosts) },
    // ssh mainClone/worktreesRoot are remote paths: left alone. Key files live on this machine.
    hosts: a.hosts.map((h) =>
      h.kind === 'ssh'
        ? {
            ...h,
            ...(h.identityFile === undefined ? {} : { identityFile: local(h.identityFile) }),
            ...(h.knownHosts === undefined ? {} : { knownHosts: local(h.knownHosts) }),
          }
        : h,
    ),
    agents: {
      ...a.agents,
      scripted: a.agents.scripted.script === undefined ? {} : { script: local(a.agents.scripted.script) },
      codex: a.agents.codex.rateCard === undefined ? a.agents.codex : { ...a.agents.codex, rateCard: local(a.agents.codex.rateCard) },
    },
    memory: a.memory.kind === 'file' ? { ...a.memory, dir: local(a.memory.dir) } : a.memory,
    ...(a.inference?.rateCard === undefined ? {} : { inference: { ...a.inference, rateCard: local(a.inference.rateCard) } }),
  };
}

/** Each `repos` entry with the top-level fields it omits filled in (roadmap, checks, scope lists, branch prefix, budget caps). */
function resolveRepos(a: ParsedAdapter, local: (p: string) => string): RepoView[] {
  return (a.repos ?? []).map((r) => {
    const path = local(r.path);
    // An omitted markdown roadmap is the top-level one's path read in this repository's clone (not one file shared by all).
    const inClone = (p: string) => resolve(path, expandHome(p));
    const roadmap =
      r.roadmap !== undefined
        ? resolveRoadmap(r.roadmap, local)
        : resolveRoadmap(a.roadmap, typeof a.roadmap === 'object' && a.roadmap.source === 'github-issues' ? local : inClone);
    const { allowed, blocked, sensitive } = r.scope ?? {};
    return {
      name: r.name,
      repo: { path, mainBranch: r.mainBranch, forge: r.forge },
      ...roadmap,
      checks: r.checks ?? a.checks,
      scope: { ...a.policy.scope, ...(allowed ? { allowed } : {}), ...(blocked ? { blocked } : {}), ...(sensitive ? { sensitive } : {}) },
      branches: { prefix: r.branches?.prefix ?? a.branches.prefix },
      budget: {
        perTaskUsd: r.budget?.perTaskUsd ?? a.budget.perTaskUsd,
        dailySoftUsd: r.budget?.dailySoftUsd ?? Math.min(a.budget.dailySoftUsd, r.budget?.dailyHardUsd ?? Infinity),
        dailyHardUsd: r.budget?.dailyHardUsd ?? a.budget.dailyHardUsd,
      },
      routing: r.routing ?? {},
    };
  });
}

function resolveRoadmap(r: ParsedAdapter['roadmap'], local: (p: string) => string): Pick<Adapter, 'roadmap' | 'roadmapSource'> {
  if (typeof r === 'string') return { roadmap: local(r), roadmapSource: { source: 'markdown', path: local(r) } };
  if (r.source === 'markdown') return { roadmap: local(r.path), roadmapSource: { source: 'markdown', path: local(r.path) } };
  return { roadmap: local('ROADMAP.md'), roadmapSource: r };
}

function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return p;
}

// ---------------------------------------------------------------- error report

interface Problem {
  path: string;
  expected: string;
  got: string;
  hint?: string;
}

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

function configErrorFromIssues(issues: readonly Issue[], raw: unknown, configPath: string): ConfigError {
  const problems = issues.flatMap((issue) => problemsOf(issue, raw));
  const lines = problems.map((p) => `- ${p.path}: expected ${p.expected}, got ${p.got}`);
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  const hints = problems.filter((p) => p.hint !== undefined).map((p) => `- ${p.path}: ${p.hint}`);
  return new ConfigError(`Invalid adapter config ${configPath} (${count}):\n${lines.join('\n')}`, {
    fix: [...hints, `Edit ${configPath}; every field is documented in docs/adapter.md.`].join('\n'),
  });
}

function problemsOf(issue: Issue, raw: unknown): Problem[] {
  const path = dotted(issue.path);
  const at = lookup(raw, issue.path);
  const got = at.found
    ? show(at.value)
    : issue.code === 'custom' && issue.input !== undefined
      ? `${show(issue.input)} (the default)`
      : 'nothing (the field is missing)';

  switch (issue.code) {
    case 'invalid_type': {
      const expected = typeNoun(issue.expected, issue.path, raw);
      if (issue.path.length === 0)
        return [{ path, expected, got, hint: 'the config file must `export default defineAdapter({ name: ..., ... })`' }];
      if (!at.found) return [{ path, expected: `${expected} (required)`, got, hint: 'this field is required; add it' }];
      return [{ path, expected, got, hint: typeHint(issue.expected, at.value) }];
    }
    case 'invalid_value':
      return [{ path, expected: `one of ${alternatives(issue.values)}`, got, hint: choiceHint(issue.values, at.value) }];
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (!options) return [{ path, expected: 'one of the allowed shapes', got }];
      return [{ path, expected: `one of ${alternatives(options)}`, got, hint: choiceHint(options, at.value) }];
    }
    case 'unrecognized_keys': {
      const known = knownKeys(issue.path, raw);
      return issue.keys.map((key) => {
        const suggestion = closest(key, known);
        return {
          path: dotted([...issue.path, key]),
          expected: known.length ? `a known key (${known.join(', ')})` : 'no such key',
          got: `unknown key ${show(key)}`,
          hint: suggestion === undefined ? 'remove it' : `did you mean "${suggestion}"?`,
        };
      });
    }
    case 'too_small':
    case 'too_big':
      return [{ path, expected: boundText(issue, issue.path, raw), got }];
    case 'invalid_key': {
      const key = issue.path[issue.path.length - 1];
      const why = issue.issues[0]?.message ?? 'valid';
      return [{ path, expected: `a key that is ${why}`, got: `key ${show(key)}` }];
    }
    default:
      // custom (refinements) and invalid_format: the schema's message is phrased as the expectation.
      return [{ path, expected: issue.message, got }];
  }
}

function typeNoun(expected: string, path: Path, raw: unknown): string {
  const nouns: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
    object: 'an object',
    array: 'an array',
    record: 'an object',
  };
  if (expected === 'number' && isIntAt(path, raw)) return 'an integer';
  return nouns[expected] ?? expected;
}

function typeHint(expected: string, value: unknown): string | undefined {
  if ((expected === 'number' || expected === 'int') && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
    return `write ${Number(value)} without quotes`;
  if (expected === 'boolean' && (value === 'true' || value === 'false')) return `write ${value} without quotes`;
  if (expected === 'array' && typeof value === 'string')
    return `use an array, e.g. ${JSON.stringify(value.split(/\s+/).filter(Boolean))}`;
  return undefined;
}

function choiceHint(values: readonly unknown[], got: unknown): string {
  const strings = values.filter((v): v is string => typeof v === 'string');
  const suggestion = typeof got === 'string' ? closest(got, strings) : undefined;
  const list = `use one of: ${values.map(String).join(', ')}`;
  return suggestion === undefined ? list : `did you mean "${suggestion}"? (${list})`;
}

function boundText(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>, path: Path, raw: unknown): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum);
  const op = small ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
  switch (issue.origin) {
    case 'array':
      if (small && bound === 1) return 'a non-empty array';
      return `an array with ${small ? 'at least' : 'at most'} ${bound} item${bound === 1 ? '' : 's'}`;
    case 'string':
      if (small && bound === 1) return 'a non-empty string';
      return `a string of ${small ? 'at least' : 'at most'} ${bound} characters`;
    default:
      return `${isIntAt(path, raw) ? 'an integer' : 'a number'} ${op} ${bound}`;
  }
}

function isIntAt(path: Path, raw: unknown): boolean {
  return (schemaAt(path, raw) as { isInt?: boolean } | undefined)?.isInt === true;
}

function knownKeys(path: Path, raw: unknown): string[] {
  const shape = (schemaAt(path, raw)?._zod.def as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

// ---------------------------------------------------------------- small helpers

/** `budget.perTaskUsd`, `hosts.0.name`; a key that is not a plain word is quoted (`budget[" "]`) so the path stays unambiguous. */
function dotted(path: Path): string {
  if (path.length === 0) return '(root)';
  return path
    .map((key, i) => (typeof key === 'number' || /^[A-Za-z0-9_$-]+$/.test(String(key)) ? `${i ? '.' : ''}${String(key)}` : `[${JSON.stringify(String(key))}]`))
    .join('');
}

function alternatives(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(' | ');
}

function lookup(raw: unknown, path: Path): { found: boolean; value?: unknown } {
  let value = raw;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return { found: false };
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value };
}

/** JSON-ish rendering of what came, truncated. */
export function show(value: unknown, max = 60): string {
  let s: string;
  if (value === undefined) s = 'undefined';
  else if (typeof value === 'function') s = `[function ${value.name || 'anonymous'}]`;
  else if (typeof value === 'bigint') s = `${value}n`;
  else if (typeof value === 'symbol') s = value.toString();
  else {
    try {
      s =
        JSON.stringify(value, (_k, v: unknown) =>
          typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? '[function]' : v,
        ) ?? String(value);
    } catch {
      s = String(value); // circular
    }
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The closest candidate by edit distance, if close enough to be a plausible typo. */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === input.toLowerCase() ? 0 : editDistance(input, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
