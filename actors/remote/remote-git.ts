/**
 * Worktree provisioning and ship recovery on a remote host, over its HostTransport. The host holds its
 * own clone (hosts[].mainClone) whose remote `origin` is the shared upstream: task branches start from a
 * freshly fetched origin/<main>, and a shipped branch is pushed from the host to origin.
 */
import { GitError } from '../../src/errors.js';
import type { HostTransport } from '../../src/ports.js';
import { parseStatus, parseWorktreeList, type EnsuredWorktree } from '../git.js';
import { chooseCommit, type ShipInput, type ShipResult } from '../ship.js';

/** The remote every host clone pushes to and fetches from. */
export const UPSTREAM = 'origin';

const DEFAULT_FIX = 'Log in to the host and run the same git command there to see the full error.';

/** git on the host, argv-form; the login environment stays, prompts are off and messages untranslated. */
export async function remoteGit(host: HostTransport, cwd: string, args: readonly string[], options: { ok?: number[]; fix?: string } = {}) {
  const r = await host.exec(['env', 'GIT_TERMINAL_PROMPT=0', 'LC_ALL=C', 'git', '-C', cwd, ...args]);
  if (!(options.ok ?? [0]).includes(r.exitCode)) {
    const said = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(0, 8).join('\n');
    throw new GitError(`Expected \`git ${args.join(' ')}\` to succeed in ${cwd} on host "${host.name}"; it exited ${r.exitCode}: ${said}`, {
      fix: r.exitCode === 127 ? `Install git on "${host.name}" (it must be on the PATH of a non-login shell).` : (options.fix ?? DEFAULT_FIX),
    });
  }
  return r;
}

const out = async (host: HostTransport, cwd: string, args: readonly string[], options?: { ok?: number[]; fix?: string }) =>
  (await remoteGit(host, cwd, args, options)).stdout.replace(/\n$/, '');

async function commitOf(host: HostTransport, cwd: string, ref: string): Promise<string | undefined> {
  const r = await remoteGit(host, cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { ok: [0, 1, 128] });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** Brings origin/<base> up to date in the host's clone; returns that ref. */
export async function fetchBase(host: HostTransport, mainClone: string, base: string): Promise<string> {
  const ref = `refs/remotes/${UPSTREAM}/${base}`;
  await remoteGit(host, mainClone, ['fetch', '--quiet', '--no-tags', UPSTREAM, `+refs/heads/${base}:${ref}`], {
    fix: `Check that ${mainClone} on "${host.name}" is a clone whose remote "${UPSTREAM}" is reachable from there (git -C ${mainClone} fetch ${UPSTREAM}).`,
  });
  return ref;
}

/** Makes `path` a worktree of the host's clone on `branch`, reusing whatever a previous run left (like ensureWorktree). */
export async function ensureRemoteWorktree(host: HostTransport, input: { mainClone: string; path: string; branch: string; base: string }): Promise<EnsuredWorktree> {
  const { mainClone, path, branch } = input;
  const check = await remoteGit(host, mainClone, ['check-ref-format', '--branch', branch], { ok: [0, 1, 128] });
  if (check.exitCode !== 0 || branch.startsWith('-')) throw new GitError(`Expected a valid branch name; got ${JSON.stringify(branch)}.`, { fix: 'Use letters, digits, "-", "_", "." and "/".' });
  const baseRef = await fetchBase(host, mainClone, input.base);
  await remoteGit(host, mainClone, ['worktree', 'prune']);
  const worktrees = parseWorktreeList(await out(host, mainClone, ['worktree', 'list', '--porcelain', '-z']));
  const ref = `refs/heads/${branch}`;
  const here = worktrees.find((w) => w.path === path);
  if (here) {
    if (here.branch === ref) return { path, branch, headSha: (await commitOf(host, path, 'HEAD'))!, action: 'reused' };
    throw new GitError(`Expected the worktree at ${path} on "${host.name}" to be on branch ${branch}; it is on ${here.branch?.replace('refs/heads/', '') ?? 'a detached HEAD'}.`, {
      fix: `Save any work there, then run on that host: git -C ${mainClone} worktree remove --force ${path}`,
    });
  }
  const elsewhere = worktrees.find((w) => w.branch === ref);
  if (elsewhere) {
    throw new GitError(`Expected branch ${branch} to be free for a worktree at ${path} on "${host.name}"; it is checked out at ${elsewhere.path}.`, {
      fix: `Remove that worktree on the host (git -C ${mainClone} worktree remove ${elsewhere.path}).`,
    });
  }
  const occupied = await host.exec(['sh', '-c', '[ -e "$1" ] && [ -n "$(ls -A -- "$1" 2>/dev/null || echo file)" ]', 'oxi', path]);
  if (occupied.exitCode === 0) {
    throw new GitError(`Expected ${path} on "${host.name}" to be absent or empty so a worktree can be made there; it holds files but is no worktree of ${mainClone}.`, {
      fix: 'Move or delete that directory on the host, then retry.',
    });
  }
  // The branch may already be upstream (a fix round, or an earlier attempt shipped from another host): continue from it.
  const upstream = `refs/remotes/${UPSTREAM}/${branch}`;
  const fetched = await remoteGit(host, mainClone, ['fetch', '--quiet', '--no-tags', UPSTREAM, `+${ref}:${upstream}`], { ok: [0, 1, 128] });
  if (fetched.exitCode === 0 && (await commitOf(host, mainClone, upstream))) {
    await remoteGit(host, mainClone, ['worktree', 'add', '--quiet', '-B', branch, path, upstream]);
    return { path, branch, headSha: (await commitOf(host, path, 'HEAD'))!, action: 'checked_out' };
  }
  if (await commitOf(host, mainClone, ref)) {
    await remoteGit(host, mainClone, ['worktree', 'add', '--quiet', path, branch]);
    return { path, branch, headSha: (await commitOf(host, path, 'HEAD'))!, action: 'checked_out' };
  }
  const start = (await commitOf(host, mainClone, baseRef))!;
  await remoteGit(host, mainClone, ['worktree', 'add', '--quiet', '-b', branch, path, start]);
  return { path, branch, headSha: start, action: 'created' };
}

/** Ship recovery on the host (same policy as `ship`), then the branch is pushed to origin when it has commits. */
export async function shipRemote(host: HostTransport, input: ShipInput): Promise<ShipResult & { pushed: boolean }> {
  const { worktree, branch, taskId, attempt } = input;
  const current = await out(host, worktree, ['symbolic-ref', '--quiet', 'HEAD'], { ok: [0, 1] });
  if (current !== `refs/heads/${branch}`) {
    throw new GitError(`Expected the worktree ${worktree} on "${host.name}" to have branch ${branch} checked out; it has ${current ? current.replace('refs/heads/', '') : 'a detached HEAD'}.`, {
      fix: `Check out ${branch} there after saving any work, then ship again.`,
    });
  }
  const status = parseStatus((await remoteGit(host, worktree, ['status', '--porcelain=v1', '-z', '-uall'])).stdout);
  const { toCommit, ledger } = chooseCommit(status, input.policy ?? 'files_touched_only', input.filesTouched, attempt);
  let committed: string[] = [];
  if (toCommit.length > 0) {
    const before = await commitOf(host, worktree, 'HEAD');
    // update-index takes literal paths (no pathspec globbing of names like `[id].ts`).
    await remoteGit(host, worktree, ['update-index', '--add', '--remove', '--', ...toCommit]);
    const message = `${taskId}: commit the work the worker left uncommitted (attempt ${attempt})\n\nOxi-Task: ${taskId}\n`;
    const identity = [];
    for (const [key, fallback] of [['user.name', 'oxi'], ['user.email', 'oxi@localhost']]) {
      if ((await remoteGit(host, worktree, ['config', '--get', key], { ok: [0, 1] })).stdout.trim() === '') identity.push('-c', `${key}=${fallback}`);
    }
    await remoteGit(host, worktree, [...identity, 'commit', '--quiet', '--no-verify', '--allow-empty-message', '-m', message], { ok: [0, 1] });
    const sha = await commitOf(host, worktree, 'HEAD');
    if (sha && sha !== before) {
      committed = toCommit;
      ledger.push({ kind: 'ship_recovery.committed', payload: { paths: committed, sha, attempt } });
    }
  }
  const headSha = (await commitOf(host, worktree, 'HEAD'))!;
  const baseRef = await fetchBase(host, worktree, input.base);
  const ahead = Number(await out(host, worktree, ['rev-list', '--count', `${baseRef}..HEAD`]));
  let pushed = false;
  if (ahead > 0) {
    // Why force: the task owns its branch, and a retried attempt replaces what an earlier one pushed.
    await remoteGit(host, worktree, ['push', '--quiet', '--force', UPSTREAM, `HEAD:refs/heads/${branch}`], {
      fix: `Check that "${host.name}" may push to ${UPSTREAM} (credentials, branch protection).`,
    });
    pushed = true;
    ledger.push({ kind: 'ship.pushed', payload: { host: host.name, branch, sha: headSha } });
  }
  return { headSha, committed, ledger, empty: ahead === 0, pushed };
}

/** Files the branch changed since it left origin/<base>, on the host (for recovery and reports). */
export async function remoteChangedFiles(host: HostTransport, worktree: string, base: string): Promise<string[]> {
  return (await out(host, worktree, ['diff', '--name-only', '-z', '--no-renames', `refs/remotes/${UPSTREAM}/${base}...HEAD`])).split('\0').filter(Boolean);
}

export async function remoteDiff(host: HostTransport, worktree: string, base: string): Promise<string> {
  return (await remoteGit(host, worktree, ['diff', '--no-color', '--no-ext-diff', `refs/remotes/${UPSTREAM}/${base}...HEAD`])).stdout;
}
