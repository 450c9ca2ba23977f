/**
 * Where a task's work lives: its workspace, its worker's streams, and how its change is shipped.
 * Local and SSH are decided here, once per host (`placeOf`); the effects ask the place and never
 * re-decide. The local place keeps workspaces and streams under the engine's own paths; an SSH place
 * keeps them on the host (namespaced by project and session tag) and pushes from the host's clone.
 */
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Adapter, SshHostConfig } from '../../src/config/schema.js';
import { ConfigError, GitError, HostUnreachableError } from '../../src/errors.js';
import { DIR_MODE, mkdirPrivate } from '../../src/fs-private.js';
import type { HostTransport } from '../../src/ports.js';
import { clockSleep } from '../../src/clock.js';
import { git, headSha } from '../git/git.js';
import { ship as shipWorkspace, type ShipInput, type ShipResult } from '../git/ship.js';
import { hostOf, type EffectDeps } from '../effects/deps.js';
import { ensureRemoteWorktree, sanitizeRemote, shipRemote } from './ssh/remote-git.js';
import { checksCheckout, ensureWorkspace, fetchTaskHead, reviewBase, sanitizeWorkspaceGit } from './workspace.js';

/** What a place needs of the engine: its config, clock, the slot pool (an unreachable host gets no new work) and the forge. */
export type PlaceDeps = Pick<EffectDeps, 'adapter' | 'clock' | 'pool' | 'forge' | 'hosts'>;

export interface ShipAt extends ShipInput {
  mainBranch: string;
}

export interface TaskPlace {
  readonly host: string;
  /** The host's transport (absent only for the local place of a task that names no host). */
  readonly transport: HostTransport | undefined;
  /** Streams live on another machine: read over the transport, their growth is the worker's progress. */
  readonly remote: boolean;
  /** The repository's clone on this host: workspaces borrow its objects. */
  readonly mainClone: string;
  /** Where this host keeps workspaces (the engine's worktreesRoot, or the SSH host's own). */
  readonly worktreesRoot: string;
  /** The workspace setup's cache on this host: one per repository (project and session tag), shared by its tasks. */
  readonly cacheDir: string;
  /** The task's workspace (made whole, or found as it was), at the recorded base or main's head. */
  provision(taskId: string, branch: string, baseSha: string | null): Promise<{ worktree: string; baseSha: string }>;
  /** The workspace's git state is the engine's again (after any session touched it). */
  sanitize(worktree: string, options?: { ifPresent?: boolean }): Promise<void>;
  /** Ship recovery, then the branch in the main clone (local) or pushed from the host's clone (SSH). */
  ship(input: ShipAt, signal?: AbortSignal): Promise<ShipResult & { baseSha: string }>;
  /** The base of a task restored from before bases were recorded: where its branch meets main. */
  unrecordedBase(taskId: string, worktree: string, branch: string): Promise<string>;
  /** Where the worker's stream files live on this host (undefined: the engine's logs dir). */
  streamsDir(taskId: string): string | undefined;
  streamSize(path: string): Promise<number | undefined>;
  readStream(path: string, signal?: AbortSignal): Promise<string>;
  /** Runs `fn` until the host answers (see whileUnreachable). */
  reach<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T>;
}

/** The one place local-vs-SSH is decided. No host named (a task restored from before hosts were recorded): the local place. */
export function placeOf(deps: PlaceDeps, host: string | undefined): TaskPlace {
  const name = host ?? deps.adapter.hosts.find((h) => h.kind !== 'ssh')?.name ?? 'local';
  const cfg = deps.adapter.hosts.find((h) => h.name === name);
  const transport = deps.hosts.get(name);
  if (cfg?.kind === 'ssh') return sshPlace(deps, name, hostOf(deps, name), cfg);
  return localPlace(deps, name, transport);
}

/** `<project>-<sessionTag>`: two engines (or projects) sharing a host never touch each other's files. */
export function namespace(deps: Pick<EffectDeps, 'adapter'>): string {
  return `${deps.adapter.name}-${deps.adapter.sessionTag}`;
}

/**
 * A task's agents' stream directory on an SSH host: `<worktreesRoot>/.oxi-logs/<namespace>/<task>`. `adapter` and
 * `host` as the task sees them (adapterForTask: a repository may have a worktrees root of its own on the host);
 * workers write there and the log janitor removes it, both through this one function.
 */
export function remoteStreamsDir(adapter: Adapter, host: Pick<SshHostConfig, 'worktreesRoot'>, taskId: string): string {
  return `${host.worktreesRoot}/.oxi-logs/${namespace({ adapter })}/${taskId}`;
}

/**
 * Runs `fn` until the host answers: while it is unreachable the work there is in an unknown state,
 * so the caller waits (with backoff) instead of failing and letting the task be dispatched again.
 */
export async function whileUnreachable<T>(deps: Pick<EffectDeps, 'clock' | 'pool'>, host: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof HostUnreachableError) || signal?.aborted) throw error;
      deps.pool.setCapacity(host, 0); // no new work there until a probe finds it back
      await clockSleep(deps.clock, Math.min(10_000, 250 * 2 ** Math.min(failures, 6)), signal);
      if (signal?.aborted) throw error;
    }
  }
}

function localPlace(deps: PlaceDeps, host: string, transport: HostTransport | undefined): TaskPlace {
  const { adapter } = deps;
  const mainClone = adapter.repo.path;
  return {
    host,
    transport,
    remote: false,
    mainClone,
    worktreesRoot: adapter.paths.worktreesRoot,
    // One cache per repository: with `repos`, a folder of its own under the project's.
    cacheDir: join(adapter.paths.stateDir, 'cache', namespace(deps), ...(adapter.scopedTo ? [adapter.scopedTo] : [])),
    async provision(taskId, branch, baseSha) {
      const worktree = `${adapter.paths.worktreesRoot}/${namespace(deps)}/${taskId}`;
      // A remote forge merges on its side: new branches must start from what it has merged so far.
      await deps.forge.syncBase?.();
      // The worktrees root and a workspace's parent are 700 before git creates the workspace (git follows the umask).
      mkdirPrivate(adapter.paths.worktreesRoot);
      mkdirPrivate(dirname(worktree), { own: true });
      const made = await ensureWorkspace({ mainClone, path: worktree, branch, taskId, baseSha, mainBranch: adapter.repo.mainBranch });
      chmodSync(worktree, DIR_MODE);
      return { worktree, baseSha: made.baseSha };
    },
    sanitize: (worktree, options) => sanitizeWorkspaceGit(worktree, mainClone, options),
    async ship(input) {
      await sanitizeWorkspaceGit(input.worktree, mainClone);
      const result = await shipWorkspace(input);
      const fetched = await fetchTaskHead(mainClone, input.worktree, input.branch, input.taskId);
      if (fetched !== result.headSha) throw new GitError(`Expected the fetched head of ${input.branch} to be ${result.headSha}; got ${fetched}.`, { fix: 'Something moved the workspace branch while it was shipped; ship again.' });
      const baseSha = result.empty ? input.base : await reviewBase(mainClone, input.base, fetched, `refs/heads/${input.mainBranch}`);
      return { ...result, baseSha };
    },
    async unrecordedBase(taskId, worktree, branch) {
      await sanitizeWorkspaceGit(worktree, mainClone);
      const head = await fetchTaskHead(mainClone, worktree, branch, taskId);
      return git(mainClone, ['merge-base', `refs/heads/${adapter.repo.mainBranch}`, head]);
    },
    streamsDir: () => undefined,
    streamSize: async (path) => (existsSync(path) ? statSync(path).size : undefined),
    readStream: async (path) => (existsSync(path) ? readFileSync(path, 'utf8') : ''),
    reach: (_signal, fn) => fn(),
  };
}

function sshPlace(deps: PlaceDeps, host: string, transport: HostTransport, sshCfg: SshHostConfig): TaskPlace {
  const { adapter } = deps;
  // The task's repository's clone on this host (adapterForRepo put it in mainClone); a host without one never gets the task.
  if (sshCfg.mainClone === undefined)
    throw new ConfigError(`Expected host "${host}" to have a clone of repository "${adapter.scopedTo ?? adapter.name}"; hosts.${host}.repos does not name one.`, {
      fix: `Add repos: { "${adapter.scopedTo ?? adapter.name}": { mainClone: "/path/on/host" } } to host "${host}", or leave its tasks to other hosts.`,
    });
  const cfg = { ...sshCfg, mainClone: sshCfg.mainClone };
  const reach = <T>(signal: AbortSignal | undefined, fn: () => Promise<T>) => whileUnreachable(deps, host, signal, fn);
  return {
    host,
    transport,
    remote: true,
    mainClone: cfg.mainClone,
    worktreesRoot: cfg.worktreesRoot,
    cacheDir: `${cfg.worktreesRoot}/.oxi-cache/${namespace(deps)}${adapter.scopedTo ? `/${adapter.scopedTo}` : ''}`,
    async provision(taskId, branch, baseSha) {
      const worktree = `${cfg.worktreesRoot}/${namespace(deps)}/${taskId}`;
      try {
        const made = await ensureRemoteWorktree(transport, { mainClone: cfg.mainClone, path: worktree, branch, base: adapter.repo.mainBranch, taskId, baseSha });
        return { worktree, baseSha: made.baseSha };
      } catch (error) {
        // Nothing runs there yet: give the slot back to the pool; the task waits for a slot again, its attempt unspent.
        if (error instanceof HostUnreachableError) deps.pool.setCapacity(host, 0);
        throw error;
      }
    },
    sanitize: (worktree, options) => reach(undefined, () => sanitizeRemote(transport, worktree, cfg.mainClone, options)),
    // Committed and pushed from the host; an unreachable host is waited for, never given up on (the work is there).
    ship: (input, signal) => reach(signal, () => shipRemote(transport, { ...input, mainClone: cfg.mainClone })),
    unrecordedBase: () => headSha(adapter.repo.path, `refs/heads/${adapter.repo.mainBranch}`),
    // Worker streams stay on the host that runs the worker; the engine reads them over the transport.
    streamsDir: (taskId) => remoteStreamsDir(adapter, cfg, taskId),
    streamSize: async (path) => (transport.fileSize ? transport.fileSize(path) : undefined),
    readStream: async (path, signal) => (await reach(signal, () => transport.readFile(path))) ?? '',
    reach,
  };
}

/**
 * The local forge runs the checks in a checkout of the PR's head of their own: a standalone repository (like a
 * workspace) at that sha, so the code under test shares no git state with the main clone and no stray file of
 * the worker's is checked. Kept between runs of the same head.
 */
export async function localChecksWorktree(deps: Pick<EffectDeps, 'adapter'>, taskId: string, sha: string): Promise<string> {
  const path = join(deps.adapter.paths.worktreesRoot, namespace(deps), `checks-${taskId}`);
  mkdirPrivate(join(deps.adapter.paths.worktreesRoot, namespace(deps)), { own: true });
  return checksCheckout(deps.adapter.repo.path, path, sha);
}
