/** The git half of the GitHub forge: task branches go up with `git push`, merged work comes down with `git fetch`. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ForgeError } from '../../../src/errors.js';
import { gitRun, isAncestor, refreshMainWorktree, resolveCommit } from '../../git/git.js';

/** The askpass script shipped with oxi: it answers git's credential prompt from OXI_GIT_TOKEN. */
const ASKPASS = fileURLToPath(new URL('../../../../bin/git-askpass.sh', import.meta.url));

/** The environment that lets one git push or fetch over HTTPS with the forge token, and only that git. */
export function tokenEnv(token: string | undefined): Record<string, string> | undefined {
  return token ? { GIT_ASKPASS: existsSync(ASKPASS) ? ASKPASS : fileURLToPath(new URL('../../../bin/git-askpass.sh', import.meta.url)), OXI_GIT_TOKEN: token } : undefined;
}

const lastLines = (text: string, n: number) => text.trim().split('\n').slice(-n).join(' ');

/** Pushes `sha` to the remote's `branch`. Forced: the branch is the engine's own, and a fix may have rewritten it. */
export async function pushBranch(mainClone: string, remote: string, branch: string, sha: string, token?: string): Promise<void> {
  // With the token, no credential helper of the user's is asked first (it would push as the user) or told it (`store` would save it).
  const helpers = token ? ['-c', 'credential.helper='] : [];
  const r = await gitRun(mainClone, [...helpers, 'push', '--quiet', remote, `+${sha}:refs/heads/${branch}`], { ok: [0, 1, 128], env: tokenEnv(token) });
  if (r.exitCode !== 0) {
    throw new ForgeError(`Expected to push ${branch} (${sha.slice(0, 12)}) to the remote "${remote}" of ${mainClone}; git said: ${lastLines(r.stderr, 3)}`, {
      fix: `Check that \`git -C ${mainClone} push ${remote}\` works non-interactively (SSH key or credential helper), and that repo.forge.remote names the GitHub remote.`,
    });
  }
}

/**
 * Fetches the remote's base branch and fast-forwards the main clone's to it (and its checkout, when
 * clean), so new task branches start from what was merged. A diverged local base is left alone.
 */
export async function followRemoteBase(mainClone: string, remote: string, mainBranch: string): Promise<void> {
  const tracking = `refs/remotes/${remote}/${mainBranch}`;
  const r = await gitRun(mainClone, ['fetch', '--quiet', remote, `+refs/heads/${mainBranch}:${tracking}`], { ok: [0, 1, 128] });
  if (r.exitCode !== 0) {
    throw new ForgeError(`Expected to fetch ${mainBranch} from the remote "${remote}" of ${mainClone}; git said: ${lastLines(r.stderr, 2)}`, {
      fix: `Check that \`git -C ${mainClone} fetch ${remote}\` works non-interactively.`,
    });
  }
  const theirs = await resolveCommit(mainClone, tracking);
  const ours = await resolveCommit(mainClone, `refs/heads/${mainBranch}`);
  if (!theirs || theirs === ours) return;
  if (ours && !(await isAncestor(mainClone, ours, theirs))) return;
  // Compare-and-swap on the old value: a concurrent local commit wins and is left alone.
  const moved = await gitRun(mainClone, ['update-ref', '-m', `oxi: follow ${remote}/${mainBranch}`, `refs/heads/${mainBranch}`, theirs, ours ?? ''], { ok: [0, 1, 128] });
  if (moved.exitCode === 0 && ours) await refreshMainWorktree(mainClone, mainBranch, ours);
}
