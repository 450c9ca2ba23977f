/**
 * A shadow run on an SSH host: the worker's host, as the real worker uses it. The sibling workspace is made there
 * from the host's clone (like the real one, ensureRemoteWorktree), the session starts detached there, its stream
 * stays there, and git runs there, all over the host's transport. Nothing of it is ever pushed: the checks gate
 * runs on the engine's machine on a pushed branch, so an SSH shadow's tree is recorded as not checked.
 */
import { GitError, HostUnreachableError } from '../../src/errors.js';
import { commitOf, ensureRemoteWorktree, remoteTouchedFiles, sanitizeRemote } from '../hosts/ssh/remote-git.js';
import type { EffectDeps } from './deps.js';
import type { ShadowSite, SiteBase } from './shadow-site.js';

/** Why an SSH shadow's tree is not checked (`shadow_checks_reason`). */
export const REMOTE_CHECKS_SKIPPED =
  'the shadow ran on an SSH host: its tree is never pushed, and checks run only where a pushed branch reaches (the checks gate on the engine\'s machine or CI)';

export function remoteShadowSite(deps: EffectDeps, base: SiteBase): ShadowSite {
  const { adapter } = deps;
  const { host, workspace, files, place } = base;
  const reach = <T>(fn: () => Promise<T>) => place.reach(deps.shadowStop, fn);
  // A start whose answer the host dropped may have started the session: its pid file there tells, so it never starts twice.
  let uncertain = false;
  return {
    host,
    remote: true,
    workspace,
    files,
    async startCommit(worktree) {
      // Read where the real workspace is: on the host, through its transport.
      const sha = await commitOf(host, worktree, 'HEAD');
      if (!sha) return { skip: `the real workspace ${worktree} on "${place.host}" has no commit checked out` };
      return (await commitOf(host, place.mainClone, sha)) ? { sha } : { skip: `the start commit ${sha} is not in the clone on "${place.host}" yet` };
    },
    async make(startSha, branch, key) {
      const made = await ensureRemoteWorktree(host, { mainClone: place.mainClone, path: workspace, branch, base: adapter.repo.mainBranch, taskId: key, baseSha: startSha });
      if (made.headSha !== startSha) throw new GitError(`Expected the shadow workspace ${workspace} on "${place.host}" at ${startSha}; it is at ${made.headSha}.`, { fix: 'Remove that workspace on the host; the next shadowed session makes it afresh.' });
    },
    async spawn(argv, env) {
      if (uncertain) {
        const recorded = Number((await host.readFile(files.pid))?.trim());
        if (Number.isInteger(recorded) && recorded > 1) return recorded;
      }
      uncertain = true;
      const { pid } = await host.spawnDetached(argv, { cwd: workspace, env, stdoutFile: files.stream, stderrFile: files.stderr, pidFile: files.pid });
      uncertain = false;
      return pid;
    },
    async alive(pid) {
      try {
        return await host.isAlive(pid);
      } catch (error) {
        if (error instanceof HostUnreachableError) return undefined;
        throw error;
      }
    },
    async terminate(pid, taskId) {
      const ending = (deps.terminateGroup ? deps.terminateGroup(place.host, pid, taskId) : host.killGroup(pid)).catch(() => undefined);
      // Recorded before it is tried: a host out of reach gets it when it answers, without holding the shadow's record.
      deps.track?.(ending);
      if (!deps.terminateGroup) await ending;
    },
    stream: () => place.readStream(files.stream, deps.shadowStop),
    // Never rejects: an unread stream is undefined (its host out of reach), a missing one ''.
    streamNow: () => host.readFile(files.stream).then((text) => text ?? '', () => undefined),
    sanitize: () => sanitizeRemote(host, workspace, place.mainClone),
    touched: (worktree, sha) => remoteTouchedFiles(host, worktree, sha),
    checks: async () => ({ state: 'skipped', reason: REMOTE_CHECKS_SKIPPED }),
    reach,
  };
}
