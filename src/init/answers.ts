/**
 * The nine answers `oxi init` asks for, their defaults (read from the repository where it
 * can), and one parser per answer shared by flags and the interactive wizard: the same input
 * gives the same result and the same error message either way.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NAME_PATTERN, TAG_PATTERN } from '../config/schema.js';

export const BACKENDS = ['claude', 'codex', 'scripted'] as const;
export type Backend = (typeof BACKENDS)[number];
export const ROLES = ['planner', 'worker', 'critic'] as const;

export type RepoAnswer = { kind: 'local' } | { kind: 'github'; owner: string; name: string };
export type HostAnswer =
  | { kind: 'local'; name: string; maxWorkers: number }
  | { kind: 'ssh'; name: string; user: string; address: string; port: number; mainClone: string; maxWorkers: number };

export interface InitAnswers {
  name: string;
  repo: RepoAnswer;
  mainBranch: string;
  branchPrefix: string;
  roadmap: string;
  budget: { perTaskUsd: number; dailySoftUsd: number; dailyHardUsd: number };
  planTier: { name: string; maxWorkers: number };
  hosts: HostAnswer[];
  agents: Record<(typeof ROLES)[number], Backend>;
  checks: string[];
  /** The workspace setup (docs/workspaces.md), suggested from the lockfiles it sees; null: none. */
  setup: SetupAnswer | null;
}

export interface SetupAnswer {
  command: string[];
  cacheKey: string[];
}

/** A parse result: the value, or what was expected (phrased for "expected …, got …"). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (expected: string): Parsed<never> => ({ ok: false, expected });

export function parseName(s: string): Parsed<string> {
  return NAME_PATTERN.test(s.trim()) ? ok(s.trim()) : bad('a project name of lowercase letters, digits and dashes, starting with a letter or digit (e.g. widgets)');
}

export function parseRepo(s: string): Parsed<RepoAnswer> {
  const v = s.trim();
  if (v === 'local') return ok({ kind: 'local' });
  const m = /^(?:https:\/\/github\.com\/|git@github\.com:)?([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(v);
  return m ? ok({ kind: 'github', owner: m[1], name: m[2] }) : bad('a GitHub repository as owner/name (e.g. acme/widgets), or "local" for no forge');
}

export function parseBranchPrefix(s: string): Parsed<string> {
  const v = s.trim();
  return /^[A-Za-z0-9._/-]*$/.test(v) && !v.includes('..') && !v.startsWith('/') ? ok(v) : bad('a branch-name prefix of letters, digits, . _ / - (e.g. oxi/)');
}

export function parseBranch(s: string): Parsed<string> {
  const v = s.trim();
  return /^[A-Za-z0-9._/-]+$/.test(v) && !v.includes('..') ? ok(v) : bad('a branch name (e.g. main)');
}

export function parseRoadmapPath(s: string): Parsed<string> {
  const v = s.trim();
  return v && !v.endsWith('/') ? ok(v) : bad('a file path relative to the repository (e.g. ROADMAP.md)');
}

export function parseUsd(s: string | number): Parsed<number> {
  const n = typeof s === 'number' ? s : Number(String(s).trim().replace(/^\$/, ''));
  return Number.isFinite(n) && n > 0 ? ok(n) : bad('an amount in USD greater than 0 (e.g. 2 or 2.50)');
}

export function parseWorkers(s: string | number): Parsed<number> {
  const n = typeof s === 'number' ? s : Number(String(s).trim());
  return Number.isInteger(n) && n >= 1 && n <= 256 ? ok(n) : bad('a whole number of agents from 1 to 256');
}

export function parseTierName(s: string): Parsed<string> {
  const v = s.trim();
  return v ? ok(v) : bad('a plan tier name (e.g. pro, max, api)');
}

/**
 * Hosts, comma-separated: `local[:workers]`, or `name=user@address[:port]/abs/clone[:workers]`
 * for an ssh host (worktrees go beside the clone, in `<clone>-worktrees`).
 */
export function parseHosts(s: string): Parsed<HostAnswer[]> {
  const expected =
    'hosts separated by commas: local[:workers], or name=user@address[:port]/absolute/clone/path[:workers] (e.g. local:2,build-1=ci@10.0.0.5/srv/widgets:4)';
  const specs = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (!specs.length) return bad(expected);
  const hosts: HostAnswer[] = [];
  for (const spec of specs) {
    const local = /^local(?::(\d+))?$/.exec(spec);
    if (local) {
      hosts.push({ kind: 'local', name: 'local', maxWorkers: local[1] ? Number(local[1]) : 2 });
      continue;
    }
    const ssh = /^([a-z0-9-]+)=([^@\s]+)@([^:/\s]+)(?::(\d+))?(\/[^:\s]*)(?::(\d+))?$/.exec(spec);
    if (!ssh || !TAG_PATTERN.test(ssh[1])) return bad(`${expected}; "${spec}" is neither`);
    hosts.push({ kind: 'ssh', name: ssh[1], user: ssh[2], address: ssh[3], port: ssh[4] ? Number(ssh[4]) : 22, mainClone: ssh[5], maxWorkers: ssh[6] ? Number(ssh[6]) : 2 });
  }
  const names = hosts.map((h) => h.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) return bad(`${expected}; each host name once ("${dup}" appears twice)`);
  if (hosts.some((h) => h.maxWorkers < 1)) return bad(`${expected}; workers ≥ 1`);
  return ok(hosts);
}

export function formatHosts(hosts: HostAnswer[]): string {
  return hosts.map((h) => (h.kind === 'local' ? `local:${h.maxWorkers}` : `${h.name}=${h.user}@${h.address}${h.port === 22 ? '' : `:${h.port}`}${h.mainClone}:${h.maxWorkers}`)).join(',');
}

export function parseBackend(s: string): Parsed<Backend> {
  const v = s.trim() as Backend;
  return (BACKENDS as readonly string[]).includes(v) ? ok(v) : bad(`one of ${BACKENDS.join(', ')}`);
}

export function parseChecks(s: string): Parsed<string[]> {
  const argv = s.trim().split(/\s+/).filter(Boolean);
  return argv.length ? ok(argv) : bad('the check command as words separated by spaces (e.g. "npm test"); no shell is used');
}

/** A setup command as typed: words (no shell), or `sh -c` when it uses && | ; or a redirection; "none" for no setup. */
export function parseSetup(s: string, cacheKey: string[] = []): Parsed<SetupAnswer | null> {
  const v = s.trim();
  if (v === 'none' || v === '') return ok(null);
  const command = /&&|\|\||[|;<>]/.test(v) ? ['sh', '-c', v] : v.split(/\s+/);
  return ok({ command, cacheKey });
}

export function formatSetup(setup: SetupAnswer | null): string {
  if (!setup) return 'none';
  return setup.command[0] === 'sh' && setup.command[1] === '-c' ? setup.command[2] : setup.command.join(' ');
}

/** Lockfile → the command that installs exactly it (first match wins), and the file that keys it. */
const SETUP_BY_LOCKFILE: Array<[string, string[]]> = [
  ['package-lock.json', ['npm', 'ci']],
  ['npm-shrinkwrap.json', ['npm', 'ci']],
  ['pnpm-lock.yaml', ['pnpm', 'install', '--frozen-lockfile']],
  ['yarn.lock', ['yarn', 'install', '--frozen-lockfile']],
  ['bun.lock', ['bun', 'install', '--frozen-lockfile']],
  ['bun.lockb', ['bun', 'install', '--frozen-lockfile']],
  ['uv.lock', ['uv', 'sync', '--frozen']],
  ['poetry.lock', ['poetry', 'install', '--no-interaction']],
  ['Pipfile.lock', ['pipenv', 'install', '--deploy']],
  ['requirements.txt', ['sh', '-c', 'python3 -m venv .venv && .venv/bin/pip install -r requirements.txt']],
  ['Cargo.lock', ['cargo', 'fetch', '--locked']],
  ['go.sum', ['go', 'mod', 'download']],
];

/** The setup a repository most likely needs, from the lockfiles at its root (null: none seen). */
export function detectSetup(dir: string): SetupAnswer | null {
  for (const [file, command] of SETUP_BY_LOCKFILE) if (existsSync(join(dir, file))) return { command, cacheKey: [file] };
  return null;
}

// ---------------------------------------------------------------- defaults read from the repo

function git(dir: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** What a user would most likely answer, from the directory and its git repository. */
export function defaultAnswers(dir: string): InitAnswers {
  const slug = basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'project';
  const origin = git(dir, ['remote', 'get-url', 'origin']);
  const repo = origin ? parseRepo(origin) : undefined;
  const branch = git(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return {
    name: NAME_PATTERN.test(slug) ? slug : 'project',
    repo: repo?.ok ? repo.value : { kind: 'local' },
    mainBranch: branch ?? 'main',
    branchPrefix: 'oxi/',
    roadmap: 'ROADMAP.md',
    budget: { perTaskUsd: 2, dailySoftUsd: 20, dailyHardUsd: 50 },
    planTier: { name: 'default', maxWorkers: 4 },
    hosts: [{ kind: 'local', name: 'local', maxWorkers: 2 }],
    agents: { planner: 'claude', worker: 'claude', critic: 'claude' },
    checks: detectChecks(dir),
    setup: detectSetup(dir),
  };
}

function detectChecks(dir: string): string[] {
  const pkg = join(dir, 'package.json');
  if (existsSync(pkg)) {
    try {
      if ((JSON.parse(readFileSync(pkg, 'utf8')) as { scripts?: Record<string, string> }).scripts?.test) return ['npm', 'test'];
    } catch {
      // fall through to the other guesses
    }
  }
  if (existsSync(join(dir, 'Cargo.toml'))) return ['cargo', 'test'];
  if (existsSync(join(dir, 'go.mod'))) return ['go', 'test', './...'];
  if (existsSync(join(dir, 'pyproject.toml'))) return ['pytest'];
  if (existsSync(join(dir, 'Makefile'))) return ['make', 'test'];
  return ['npm', 'test'];
}
