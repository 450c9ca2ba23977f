/**
 * The repositories of an adapter, and the view of the adapter one task sees.
 *
 * With `repo` (one repository) there is one view, named after the adapter, and task ids are bare
 * (`T0-101`), as they always were. With `repos` a task's engine id is `<repo>/<id>` (`product/T0-101`)
 * and every per-task value (clone, main branch, forge, roadmap, checks, scope, branch prefix, budget,
 * agent routes, the SSH clones of each host) is its repository's: `adapterForRepo` gives that view as
 * an Adapter, so per-task code reads `adapter.repo`, `adapter.checks`, `adapter.policy.scope` as before.
 * Pure: no I/O.
 */
import { ConfigError } from '../errors.js';
import type { Adapter, RepoView } from './schema.js';

/** Whether the adapter names `repos` (task ids are then `<repo>/<id>`). */
export function isMultiRepo(adapter: Pick<Adapter, 'repos'>): boolean {
  return adapter.repos !== undefined;
}

/** The single repository's view: the adapter's own fields (so an adapter edited in memory is seen as it is). */
function singleView(adapter: Adapter): RepoView {
  return {
    name: adapter.name,
    repo: adapter.repo,
    roadmap: adapter.roadmap,
    roadmapSource: adapter.roadmapSource ?? { source: 'markdown', path: adapter.roadmap },
    checks: adapter.checks,
    scope: adapter.policy.scope,
    branches: adapter.branches,
    budget: adapter.budget,
    routing: {},
  };
}

/** Every repository of the adapter, in config order (one, named after the adapter, with `repo`). */
export function repoViews(adapter: Adapter): RepoView[] {
  return adapter.repos ?? [singleView(adapter)];
}

/** The names of the repositories (the values `tasks.repo` holds). */
export function repoNames(adapter: Pick<Adapter, 'name' | 'repos'>): string[] {
  return adapter.repos ? adapter.repos.map((r) => r.name) : [adapter.name];
}

/** The view of the repository named `name`; a name the adapter does not have is a ConfigError. */
export function repoView(adapter: Adapter, name: string): RepoView {
  const view = repoViews(adapter).find((r) => r.name === name);
  if (!view)
    throw new ConfigError(`Expected a repository named in the adapter (${repoNames(adapter).join(', ')}); got "${name}".`, {
      fix: 'A task of a repository that was removed from repos cannot run: put the repository back, or abandon its tasks.',
    });
  return view;
}

/** The engine id of roadmap item `id` of repository `repo`: `<repo>/<id>` with `repos`, `id` itself with `repo`. */
export function engineTaskId(adapter: Pick<Adapter, 'repos'>, repo: string, id: string): string {
  return isMultiRepo(adapter) ? `${repo}/${id}` : id;
}

/** The repository name of an engine task id (or a task row, whose `repo` column says it). */
export function repoOfTask(adapter: Adapter, task: string | { id: string; repo?: string }): string {
  if (typeof task !== 'string' && task.repo !== undefined && adapter.repos?.some((r) => r.name === task.repo)) return task.repo;
  const id = typeof task === 'string' ? task : task.id;
  if (!adapter.repos) return adapter.name;
  const slash = id.indexOf('/');
  // A multi-repo engine id always names its repository; a bare id (from before repos) is the first one's.
  return slash > 0 ? id.slice(0, slash) : adapter.repos[0].name;
}

/** The roadmap's own id of a task (`T0-101` for `product/T0-101`): what branches and the roadmap source use. */
export function bareTaskId(adapter: Pick<Adapter, 'repos'>, taskId: string): string {
  if (!adapter.repos) return taskId;
  const slash = taskId.indexOf('/');
  return slash > 0 && adapter.repos.some((r) => r.name === taskId.slice(0, slash)) ? taskId.slice(slash + 1) : taskId;
}

/**
 * The adapter as one repository's task sees it: that repository's clone, forge, roadmap, checks, scope
 * (protected stays shared), branch prefix, budget and agent routes; SSH hosts carry that repository's clone
 * (a host without one has `mainClone` undefined: it cannot take the task). With `repo`, the adapter itself.
 */
export function adapterForRepo(adapter: Adapter, name: string): Adapter {
  if (!adapter.repos || adapter.scopedTo === name) return adapter;
  let byName = scopedCache.get(adapter);
  if (!byName) scopedCache.set(adapter, (byName = new Map()));
  const cached = byName.get(name);
  if (cached) return cached;
  const scoped = scope(adapter, name);
  byName.set(name, scoped);
  return scoped;
}

/** One view per adapter object and repository: effects ask for it at every step. */
const scopedCache = new WeakMap<Adapter, Map<string, Adapter>>();

function scope(adapter: Adapter, name: string): Adapter {
  const r = repoView(adapter, name);
  const agents = adapter.agents;
  return {
    ...adapter,
    scopedTo: name,
    repo: r.repo,
    roadmap: r.roadmap,
    roadmapSource: r.roadmapSource,
    checks: r.checks,
    branches: r.branches,
    budget: { ...adapter.budget, perTaskUsd: r.budget.perTaskUsd },
    policy: { ...adapter.policy, scope: { ...r.scope, protected: adapter.policy.scope.protected } },
    agents: { ...agents, planner: r.routing.planner ?? agents.planner, worker: r.routing.worker ?? agents.worker, critic: r.routing.critic ?? agents.critic },
    hosts: adapter.hosts.map((h) => {
      if (h.kind !== 'ssh') return h;
      const clone = h.repos?.[name];
      return { ...h, mainClone: clone?.mainClone, worktreesRoot: clone?.worktreesRoot ?? h.worktreesRoot };
    }),
  };
}

/** The adapter as the task `taskId` (an engine id, or a task row) sees it. */
export function adapterForTask(adapter: Adapter, task: string | { id: string; repo?: string }): Adapter {
  return adapter.repos ? adapterForRepo(adapter, repoOfTask(adapter, task)) : adapter;
}

/** Whether a host can take a task of repository `name`: local hosts use the engine's clone; an SSH host needs its own. */
export function hostHasRepo(adapter: Adapter, host: string, name: string): boolean {
  const h = adapter.hosts.find((x) => x.name === host);
  if (!h || h.kind !== 'ssh') return true;
  return adapter.repos ? h.repos?.[name] !== undefined : h.mainClone !== undefined;
}
