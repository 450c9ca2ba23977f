/**
 * Preflight: what must hold before any agent runs (`oxi run`, `tick`, `demo`, `doctor`,
 * `status --dry-run`). Each problem says what was expected, what was found, and the fix;
 * a failure stops the command with exit 2 before anything is dispatched.
 */
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import type { Adapter } from '../config/schema.js';
import type { CheckResult } from '../doctor/types.js';
import { parseRoadmap } from '../roadmap/parse.js';
import { agentEnv } from '../agents/env.js';
import { programsOf, resolveProgram } from './resolve.js';
import { adapterForRepo, isMultiRepo, repoNames } from '../config/repos.js';

async function git(cwd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await execa('git', args, { cwd, reject: false, stdin: 'ignore', timeout: 20_000 }).catch((e: Error) => ({ failed: true, stdout: e.message }));
  return { ok: !r.failed, out: String(r.stdout ?? '').trim() };
}

export async function repoChecks(adapter: Adapter): Promise<CheckResult[]> {
  const { repo } = adapter;
  const top = await git(repo.path, ['rev-parse', '--show-toplevel']);
  if (!top.ok) {
    return [{ id: 'repo', status: 'fail', detail: `expected a git repository at ${repo.path} (repo.path), found none`, fix: `Run \`git init && git commit --allow-empty -m init\` in ${repo.path}, or set repo.path to your clone.` }];
  }
  const results: CheckResult[] = [];
  const main = await git(repo.path, ['rev-parse', '--verify', '--quiet', `refs/heads/${repo.mainBranch}`]);
  if (!main.ok) {
    const branches = (await git(repo.path, ['for-each-ref', '--format=%(refname:short)', 'refs/heads'])).out.split('\n').filter(Boolean);
    results.push({
      id: 'repo',
      status: 'fail',
      detail: `expected the main branch "${repo.mainBranch}" (repo.mainBranch) in ${repo.path}, found ${branches.length ? `only ${branches.join(', ')}` : 'no branch (no commit yet)'}`,
      fix: branches.length ? `Set repo.mainBranch to one of them, or create it: git branch ${repo.mainBranch}` : 'Make a first commit: git commit --allow-empty -m init',
    });
  } else results.push({ id: 'repo', status: 'ok', detail: `${repo.path} on ${repo.mainBranch}` });
  if (repo.forge.kind === 'github') {
    const remote = repo.forge.remote ?? 'origin';
    const url = await git(repo.path, ['remote', 'get-url', remote]);
    if (!url.ok) {
      const remotes = (await git(repo.path, ['remote'])).out.split('\n').filter(Boolean);
      results.push({
        id: 'remote',
        status: 'fail',
        detail: `expected the git remote "${remote}" (repo.forge.remote) in ${repo.path}, found ${remotes.length ? remotes.join(', ') : 'no remote'}`,
        fix: `git remote add ${remote} git@github.com:${repo.forge.owner}/${repo.forge.name}.git${remotes.length ? `, or set repo.forge.remote to ${remotes[0]}` : ''}`,
      });
    } else results.push({ id: 'remote', status: 'ok', detail: `remote ${remote}: ${url.out}` });
  }
  return results;
}

/** The roadmap: each warning with its line and the expected form; no items at all is an error. */
export function roadmapChecks(adapter: Adapter): CheckResult[] {
  // Another roadmap source (GitHub Issues) is read at run time; oxi doctor asks it.
  if (adapter.roadmapSource && adapter.roadmapSource.source !== 'markdown') return [];
  let text: string;
  try {
    text = readFileSync(adapter.roadmap, 'utf8');
  } catch (error) {
    return [{ id: 'roadmap', status: 'fail', detail: `expected the roadmap at ${adapter.roadmap}, could not read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, fix: 'Create it (oxi init writes a starter), or set `roadmap` in the adapter.' }];
  }
  const parsed = parseRoadmap(text);
  const results: CheckResult[] = parsed.problems.map((p) => ({
    id: `roadmap:${p.line}`,
    status: p.severity === 'error' ? 'fail' : 'warn',
    detail: `${adapter.roadmap}:${p.line}: ${p.message}`,
    fix: 'Fix that line; `oxi roadmap` shows what parses.',
  }));
  if (!parsed.items.length) {
    results.push({ id: 'roadmap', status: 'fail', detail: `expected at least one item in ${adapter.roadmap}, found none`, fix: 'Add one under a tier heading:\n        ## Tier 0\n        **T0-1 · Title**\n        _What to change and how to know it is done._' });
  } else if (!results.some((r) => r.status === 'fail')) results.push({ id: 'roadmap', status: 'ok', detail: `${adapter.roadmap}: ${parsed.items.length} item(s)` });
  return results;
}

/** The checks command and each agent command a local host runs: found where exec would look. */
export function commandChecks(adapter: Adapter, env: NodeJS.ProcessEnv = process.env): CheckResult[] {
  const results: CheckResult[] = [];
  const agentPath = agentEnv(adapter, env).PATH ?? env.PATH;
  const checks = adapter.checks.command;
  const missing = programsOf(checks).find((p) => !resolveProgram(p, adapter.repo.path, agentPath));
  results.push(
    missing
      ? { id: 'checks', status: 'fail', detail: `expected the checks command ${JSON.stringify(checks)} to be runnable, but "${missing}" is not found (on PATH or relative to ${adapter.repo.path}); it would exit 127 on every task`, fix: `Install ${missing}, or set checks.command in the adapter (an argv array, e.g. ["npm", "test"]).` }
      : { id: 'checks', status: 'ok', detail: `checks: ${checks.join(' ')}` },
  );
  if (!adapter.hosts.some((h) => h.kind === 'local')) return results;
  const roles = (['planner', 'worker', 'critic'] as const).flatMap((r) => [adapter.agents[r], ...adapter.agents[r].fallbacks]);
  for (const backend of new Set(roles.map((r) => r.backend))) {
    if (backend === 'scripted') continue;
    const command = adapter.agents[backend].command;
    const found = resolveProgram(command[0], adapter.repo.path, agentPath);
    results.push(
      found
        ? { id: `command:${backend}`, status: 'ok', detail: `agents.${backend}.command: ${found}` }
        : { id: `command:${backend}`, status: 'fail', detail: `expected agents.${backend}.command ${JSON.stringify(command)} to be runnable, but "${command[0]}" is not found on the agents' PATH`, fix: `Install it, set agents.${backend}.command to its full path, or allow a PATH that has it (agents.env.allow / agents.env.set).` },
    );
  }
  return results;
}

export async function preflight(adapter: Adapter): Promise<CheckResult[]> {
  if (!isMultiRepo(adapter)) return [...(await repoChecks(adapter)), ...commandChecks(adapter), ...roadmapChecks(adapter)];
  // With `repos`: every repository's clone, checks, agent routes and roadmap, each line naming its repository.
  const seen = new Set<string>();
  const out: CheckResult[] = [];
  for (const name of repoNames(adapter)) {
    const view = adapterForRepo(adapter, name);
    for (const r of [...(await repoChecks(view)), ...commandChecks(view), ...roadmapChecks(view)]) {
      // An agent command shared by every repository is checked once.
      const key = `${r.id}\0${r.detail}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ ...r, detail: `${name}: ${r.detail}` });
    }
  }
  return out;
}
