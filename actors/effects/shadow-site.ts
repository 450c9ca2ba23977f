/**
 * Where a shadow run (agents.shadow) happens: the host of the worker it shadows. The sibling workspace sits beside
 * the real one under that host's worktrees root, its streams beside the worker's. This file holds what both kinds
 * share and the engine's own machine; an SSH host's side is in shadow-remote.ts. The shadow's logic (shadow.ts)
 * asks the site and never decides local vs SSH itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EffectInput } from '../../machines/effects.js';
import { checksEnv } from '../../src/agents/phase-env.js';
import { mkdirPrivate } from '../../src/fs-private.js';
import type { HostTransport } from '../../src/ports.js';
import { execChecksCommand } from '../forges/checks-command.js';
import { headSha, resolveCommit, touchedFiles } from '../git/git.js';
import { namespace, placeOf, type TaskPlace } from '../hosts/places.js';
import { ensureWorkspace, sanitizeWorkspaceGit } from '../hosts/workspace.js';
import { engineMachine, sandboxOf } from '../sandbox/sandbox.js';
import { hostOf, type EffectDeps } from './deps.js';
import { remoteShadowSite } from './shadow-remote.js';

type RunAgentInput = EffectInput<'runAgent'>;

export interface ShadowFiles {
  stream: string;
  stderr: string;
  pid: string;
}

export type ShadowChecks = { state: 'success' | 'failure' | 'skipped'; reason: string | null };

/** What the shadow's host offers it. Each call is one try: a caller that must wait for the host wraps it in `reach`. */
export interface ShadowSite {
  readonly host: HostTransport;
  readonly remote: boolean;
  /** The sibling workspace, under the host's worktrees root. */
  readonly workspace: string;
  readonly files: ShadowFiles;
  /** The commit the real session starts from (its workspace's HEAD), or why it cannot be shadowed. */
  startCommit(worktree: string): Promise<{ sha: string } | { skip: string }>;
  /** Makes the sibling workspace on `branch` at `startSha` (`key`: its name among the host clone's task refs). */
  make(startSha: string, branch: string, key: string): Promise<void>;
  /** Starts the confined session detached; its pid is its process group. */
  spawn(argv: readonly string[], env: Record<string, string>): Promise<number>;
  /** Whether the session still runs; undefined when its host does not answer now. */
  alive(pid: number): Promise<boolean | undefined>;
  /** Ends the session's group: recorded first when the engine keeps a record of groups to terminate. */
  terminate(pid: number, taskId: string): Promise<void>;
  /** The session's stream, once the host answers (or the engine stops). */
  stream(): Promise<string>;
  /**
   * The session's stream now, one try: '' when there is none, undefined when it cannot be read now (its host out of
   * reach). On the engine's machine the answer is immediate (no promise), so a start records it before dispatching.
   */
  streamNow(): string | undefined | Promise<string | undefined>;
  /** The workspace's git state is the engine's again. */
  sanitize(): Promise<void>;
  /** Files a workspace on this host changed since `base` (committed or not, untracked included). */
  touched(worktree: string, base: string): Promise<string[]>;
  /** The shadow's tree against the repository's checks. */
  checks(): Promise<ShadowChecks>;
  /** Runs `fn` until the host answers (never past the engine's stop). */
  reach<T>(fn: () => Promise<T>): Promise<T>;
}

/** The parts both kinds share: names and paths, decided once from the worker's place. */
export interface SiteBase {
  place: TaskPlace;
  host: HostTransport;
  workspace: string;
  files: ShadowFiles;
}

/** The site of a worker session's shadow: the worker's host. */
export function shadowSiteOf(deps: EffectDeps, input: RunAgentInput): ShadowSite {
  const place = placeOf(deps, input.host);
  const key = `${input.taskId}-a${input.attempt}-f${input.fix}`;
  const streams = join(place.streamsDir(input.taskId) ?? join(deps.adapter.paths.logs, input.taskId), 'shadow');
  const stem = join(streams, `shadow-a${input.attempt}-f${input.fix}`);
  const base: SiteBase = {
    place,
    host: hostOf(deps, input.host),
    workspace: join(place.worktreesRoot, `${namespace(deps)}-shadow`, key),
    files: { stream: `${stem}.ndjson`, stderr: `${stem}.stderr.log`, pid: `${stem}.ndjson.pid` },
  };
  return place.remote ? remoteShadowSite(deps, base) : localShadowSite(deps, base);
}

function localShadowSite(deps: EffectDeps, base: SiteBase): ShadowSite {
  const { adapter } = deps;
  const { host, workspace, files, place } = base;
  return {
    host,
    remote: false,
    workspace,
    files,
    async startCommit(worktree) {
      const sha = await headSha(worktree);
      // The sibling workspace borrows the main clone's objects: a start commit only the real workspace holds cannot be shadowed.
      return (await resolveCommit(place.mainClone, sha)) ? { sha } : { skip: `the start commit ${sha} is not in the main clone yet` };
    },
    async make(startSha, branch, key) {
      mkdirPrivate(adapter.paths.worktreesRoot);
      mkdirPrivate(dirname(workspace), { own: true });
      await ensureWorkspace({ mainClone: place.mainClone, path: workspace, branch, taskId: key, baseSha: startSha, mainBranch: adapter.repo.mainBranch });
      mkdirPrivate(dirname(files.stream));
    },
    spawn: async (argv, env) => (await host.spawnDetached(argv, { cwd: workspace, env, stdoutFile: files.stream, stderrFile: files.stderr, pidFile: files.pid })).pid,
    alive: (pid) => host.isAlive(pid),
    // Terminated like a worker's group: recorded first, so a group the engine could not end goes at the next start.
    terminate: (pid, taskId) => (deps.terminateGroup ? deps.terminateGroup(place.host, pid, taskId) : host.killGroup(pid)),
    stream: () => place.readStream(files.stream),
    streamNow: () => readLocalStream(files.stream),
    sanitize: () => sanitizeWorkspaceGit(workspace, place.mainClone),
    touched: (worktree, sha) => touchedFiles(worktree, sha),
    checks: async () => ({ state: (await execChecksCommand(localChecks(deps), workspace)).state, reason: null }),
    reach: (fn) => fn(),
  };
}

function readLocalStream(path: string): string | undefined {
  try {
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  } catch {
    return undefined;
  }
}

/** The checks as the local forge's gate runs them: confined on the engine's machine, with the checks' own environment. */
function localChecks(deps: EffectDeps) {
  const { adapter } = deps;
  return {
    command: adapter.checks.command,
    timeoutMs: adapter.checks.timeoutMs,
    env: checksEnv(adapter),
    sandbox: async (argv: readonly string[], cwd: string, env: Record<string, string>) =>
      (await sandboxOf(adapter, engineMachine).wrap({ role: 'checks', backend: 'checks', argv, env, workspace: cwd, writable: true, waited: true })).argv,
  };
}
