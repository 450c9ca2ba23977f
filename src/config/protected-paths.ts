/**
 * Protected paths: files whose change always waits for a human, whatever `policy.scope` says.
 * An agent that could change them unreviewed could widen its own permissions (the adapter), hide
 * from the engine (its state dir), run code on the next CI run or the next checkout (`.git*`, CI
 * config), choose its next tasks (the roadmap) or neuter the gate it must pass (the checks' files).
 * Pure: the adapter and a list of repo-relative paths in, the protected ones out. docs/security.md.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { CONFIG_FILE_NAMES } from './load.js';
import type { Adapter } from './schema.js';

/** Prefixes protected in every repository (lowercase; a trailing `/` is a directory). */
export const BUILTIN_PROTECTED = [
  // CI systems other than those under `.git*` (GitHub Actions, GitLab CI and Gitea/Forgejo live there).
  '.circleci/', '.buildkite/', '.ci/', '.woodpecker/', '.woodpecker.yml', '.drone.yml', '.travis.yml',
  'azure-pipelines.yml', 'bitbucket-pipelines.yml', 'jenkinsfile', 'appveyor.yml', '.appveyor.yml',
  // Git hooks installed for humans on checkout or install: code that runs on a developer's machine.
  '.husky/', '.pre-commit-config.yaml', 'lefthook.yml', '.lefthook.yml',
] as const;

/** What a package manager reads to decide which code `npm test` (or an import of a package) runs. */
export const PACKAGE_MANIFESTS = [
  'package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.pnpmfile.cjs',
  'bun.lock', 'bun.lockb', '.npmrc', '.yarnrc', '.yarnrc.yml',
] as const;

const PACKAGE_RUNNERS = new Set(['npm', 'npx', 'yarn', 'pnpm', 'pnpx', 'bun', 'bunx', 'corepack']);
const INTERPRETERS = new Set(['node', 'bash', 'sh', 'zsh', 'dash', 'python', 'python3', 'deno', 'bun', 'tsx', 'ts-node', 'ruby', 'perl', 'php']);
const TASK_RUNNERS: Record<string, string[]> = { make: ['makefile', 'gnumakefile'], just: ['justfile', '.justfile'], tox: ['tox.ini'] };

/** One protected prefix and why it is protected (the why goes into docs and ledger rows). */
export interface ProtectedRule {
  prefix: string;
  why: string;
}

/** Every protected prefix for this adapter: the built-in list plus `policy.scope.protected`. */
export function protectedRules(adapter: Adapter): ProtectedRule[] {
  const rules: ProtectedRule[] = [];
  const add = (prefix: string | undefined, why: string) => {
    if (prefix !== undefined && prefix !== '' && prefix !== '/') rules.push({ prefix: prefix.toLowerCase(), why });
  };
  const inRepo = (path: string | undefined) => (path === undefined ? undefined : repoRelative(adapter.repo.path, path));
  const dirOf = (path: string | undefined) => (path === undefined ? undefined : `${path}/`);

  // The adapter: the file loaded, any file it imports, and every name the loader would pick up instead of it.
  add(inRepo(adapter.source?.path), 'the adapter file');
  for (const file of adapter.source?.imports ?? []) add(inRepo(file), 'a file the adapter imports');
  const configDirs = new Set(['', ...(adapter.source ? [inRepo(dirOfFile(adapter.source.path))] : [])].filter((d): d is string => d !== undefined));
  for (const dir of configDirs) for (const name of CONFIG_FILE_NAMES) add(`${dir === '' ? '' : `${dir}/`}${name}`, 'an adapter file name');
  // Files the adapter names and the engine reads.
  const ssh = adapter.hosts.flatMap((h) => (h.kind === 'ssh' ? [h.identityFile, h.knownHosts] : []));
  for (const file of [adapter.agents.scripted.script, adapter.agents.codex.rateCard, adapter.inference?.rateCard, ...ssh]) add(inRepo(file), 'a file the adapter names');
  // The engine's own state.
  add('.oxi/', 'the engine state dir');
  for (const dir of [adapter.paths.stateDir, adapter.paths.logs, adapter.paths.worktreesRoot]) add(dirOf(inRepo(dir)), 'the engine state dir');
  add(inRepo(adapter.paths.db), 'the engine database');
  add(inRepo(adapter.roadmap), 'the roadmap');
  for (const prefix of BUILTIN_PROTECTED) add(prefix, 'CI or git hook config');
  for (const prefix of checksFiles(adapter)) add(prefix, "the checks' own config");
  if (usesPackages(adapter)) for (const name of PACKAGE_MANIFESTS) add(name, 'what the package manager runs');
  for (const prefix of adapter.policy.scope.protected) add(prefix, 'policy.scope.protected');
  return rules;
}

/**
 * The changed files that need a human, in the order given. `.git*` is matched on every path segment
 * (`.gitignore`, `.gitattributes`, `.gitmodules`, `.github/`, `.gitlab-ci.yml`, nested ones too);
 * everything else by prefix, case-insensitively (a case-insensitive checkout would map `OXI.CONFIG.JSON` onto the adapter).
 */
export function protectedPathsTouched(files: readonly string[], adapter: Adapter): string[] {
  const rules = protectedRules(adapter);
  return files.filter((file) => whyProtected(file, rules) !== undefined);
}

/** Why this repo-relative path is protected, or undefined. */
export function whyProtected(file: string, rules: readonly ProtectedRule[]): string | undefined {
  const f = normalize(file);
  if (f.split('/').some((segment) => segment.startsWith('.git'))) return 'git or forge config (.git*)';
  return rules.find((r) => f === r.prefix.replace(/\/$/, '') || f.startsWith(r.prefix))?.why;
}

/** The reason a task waits for a human: `touches protected path X` (the first one, then how many more). */
export function protectedReason(touched: readonly string[]): string {
  const [first, ...rest] = touched;
  return `touches protected path ${first}${rest.length ? ` (and ${rest.length} more: ${rest.slice(0, 5).join(', ')}${rest.length > 5 ? ', …' : ''})` : ''}`;
}

/**
 * Files the check command names that live in the repository: a script run directly (`./ci/check.sh`),
 * the script an interpreter runs (`node scripts/check.mjs`), a task runner's file (`make` → Makefile).
 * What a `sh -c '…'` string runs is not knowable here: add it to `policy.scope.protected`.
 */
function checksFiles(adapter: Adapter): string[] {
  const [program, ...args] = adapter.checks.command;
  const out: string[] = [];
  const base = program.split('/').pop() ?? program;
  if (program.includes('/')) out.push(...optional(repoRelative(adapter.repo.path, program)));
  if (INTERPRETERS.has(base)) {
    const script = args.find((a) => !a.startsWith('-'));
    if (script !== undefined && args[args.indexOf(script) - 1] !== '-c' && /[./]/.test(script)) out.push(...optional(repoRelative(adapter.repo.path, script)));
  }
  out.push(...(TASK_RUNNERS[base] ?? []));
  return out;
}

/** Checks run through a package manager, or a code adapter imports a package: its manifests decide what code runs. */
function usesPackages(adapter: Adapter): boolean {
  const base = adapter.checks.command[0].split('/').pop() ?? '';
  return PACKAGE_RUNNERS.has(base) || adapter.source?.importsPackages === true;
}

/** `path` relative to the repository (forward slashes), or undefined when it lies outside it. */
function repoRelative(repo: string, path: string): string | undefined {
  const rel = relative(repo, isAbsolute(path) ? path : `${repo}${sep}${path}`);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

function dirOfFile(path: string): string {
  const i = path.lastIndexOf(sep);
  return i <= 0 ? sep : path.slice(0, i);
}

function optional(value: string | undefined): string[] {
  return value === undefined ? [] : [value];
}

/** Lowercase, forward slashes, no leading `./` or `/`, no empty or `.` segments. */
function normalize(file: string): string {
  return file
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/')
    .toLowerCase();
}
