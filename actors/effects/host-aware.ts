/**
 * What the task effects need to know about where a task runs: provisioning, the worker's files and
 * shipping go to the host that holds the task's slot. SSH hosts keep worktrees and worker streams on
 * the host (namespaced by project and session tag); the local host keeps today's fast local path.
 */
import { join } from 'node:path';
import { HostUnreachableError } from '../../src/errors.js';
import { mkdirPrivate } from '../../src/fs-private.js';
import type { SshHostConfig } from '../../src/config/schema.js';
import type { HostTransport } from '../../src/ports.js';
import { clockSleep, hostOf, type EffectDeps } from './deps.js';
import { checksCheckout } from '../hosts/workspace.js';

export function sshConfigOf(deps: EffectDeps, host: string): SshHostConfig | undefined {
  const cfg = deps.adapter.hosts.find((h) => h.name === host);
  return cfg?.kind === 'ssh' ? cfg : undefined;
}

/** `<project>-<sessionTag>`: two engines (or projects) sharing a host never touch each other's files. */
export function namespace(deps: EffectDeps): string {
  return `${deps.adapter.name}-${deps.adapter.sessionTag}`;
}

export function remoteWorktreePath(deps: EffectDeps, cfg: SshHostConfig, taskId: string): string {
  return `${cfg.worktreesRoot}/${namespace(deps)}/${taskId}`;
}

/** Worker streams stay on the host that runs the worker; the engine reads them over the transport. */
export function remoteLogsDir(deps: EffectDeps, cfg: SshHostConfig, taskId: string): string {
  return `${cfg.worktreesRoot}/.oxi-logs/${namespace(deps)}/${taskId}`;
}

/**
 * Runs `fn` until the host answers: while it is unreachable the work there is in an unknown state,
 * so the caller waits (with backoff) instead of failing and letting the task be dispatched again.
 */
export async function whileUnreachable<T>(deps: EffectDeps, host: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
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

/** Size of a worker's stream file on its host (local: a stat; SSH: over the transport). */
export async function streamSize(host: HostTransport, path: string): Promise<number | undefined> {
  if (host.fileSize) return host.fileSize(path);
  const { statSync } = await import('node:fs');
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/**
 * The local forge runs the checks in a checkout of the PR's head of their own: a standalone repository (like a
 * workspace) at that sha, so the code under test shares no git state with the main clone and no stray file of
 * the worker's is checked. Kept between runs of the same head.
 */
export async function localChecksWorktree(deps: EffectDeps, taskId: string, sha: string): Promise<string> {
  const path = join(deps.adapter.paths.worktreesRoot, namespace(deps), `checks-${taskId}`);
  mkdirPrivate(join(deps.adapter.paths.worktreesRoot, namespace(deps)), { own: true });
  return checksCheckout(deps.adapter.repo.path, path, sha);
}

export { hostOf };
