/**
 * Worktree provisioning and ship recovery on a remote host, over its HostTransport. The host holds its
 * own clone (hosts[].mainClone) whose remote `origin` is the shared upstream: task branches start from a
 * freshly fetched origin/<main>, and a shipped branch is pushed from the host to origin.
 */
import { GitError } from '../../../src/errors.js';
import type { HostTransport } from '../../../src/ports.js';
import { HARDENED_CONFIG, parseStatus } from '../../git/git.js';
import { CANONICAL_CONFIG, taskRef, type EnsuredWorkspace } from '../workspace.js';
import { chooseCommit, type ShipInput, type ShipResult } from '../../git/ship.js';

/** The remote every host clone pushes to and fetches from. */
export const UPSTREAM = 'origin';

const DEFAULT_FIX = 'Log in to the host and run the same git command there to see the full error.';

/** git on the host, argv-form, hardened like the engine's own (no hooks, no fsmonitor); prompts are off and messages untranslated. */
export async function remoteGit(host: HostTransport, cwd: string, args: readonly string[], options: { ok?: number[]; fix?: string } = {}) {
  const r = await host.exec(['env', 'GIT_TERMINAL_PROMPT=0', 'GIT_NO_REPLACE_OBJECTS=1', 'LC_ALL=C', 'git', ...HARDENED_CONFIG, '-C', cwd, ...args]);
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

/** The commit `ref` names in the repository at `cwd` on the host, or undefined when it names none there. */
export async function commitOf(host: HostTransport, cwd: string, ref: string): Promise<string | undefined> {
  const r = await remoteGit(host, cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { ok: [0, 1, 128] });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** The remote twin of touchedFiles: what the workspace changed since `base`, committed or not, plus its untracked files. */
export async function remoteTouchedFiles(host: HostTransport, worktree: string, base: string): Promise<string[]> {
  const [changed, added] = await Promise.all([
    out(host, worktree, ['diff', '--name-only', '-z', '--no-renames', base]),
    out(host, worktree, ['ls-files', '-z', '--others', '--exclude-standard']),
  ]);
  return [...new Set([...changed.split('\0'), ...added.split('\0')].filter(Boolean))].sort();
}

/** Brings origin/<base> up to date in the host's clone; returns that ref. */
export async function fetchBase(host: HostTransport, mainClone: string, base: string): Promise<string> {
  const ref = `refs/remotes/${UPSTREAM}/${base}`;
  await remoteGit(host, mainClone, ['fetch', '--quiet', '--no-tags', UPSTREAM, `+refs/heads/${base}:${ref}`], {
    fix: `Check that ${mainClone} on "${host.name}" is a clone whose remote "${UPSTREAM}" is reachable from there (git -C ${mainClone} fetch ${UPSTREAM}).`,
  });
  return ref;
}

/** sh lines restoring a workspace's git state ($ws, $objects, $config): the remote twin of sanitizeWorkspaceGit. */
const SANITIZE_BODY = [
  'gd="$ws/.git"',
  'if [ -L "$gd" ] || [ ! -d "$gd" ]; then echo "$gd is not the workspace\'s own git directory" >&2; exit 3; fi',
  'find "$gd" -type l -exec rm -f {} +',
  'rm -rf "$gd/config" "$gd/commondir" "$gd/gitdir" "$gd/info/attributes" "$gd/info/grafts" "$gd/shallow" "$gd/objects/info/alternates" "$gd/objects/info/http-alternates" "$gd/hooks"',
  'mkdir -p "$gd/objects/info" "$gd/refs/heads" && printf %s "$config" > "$gd/config" && printf "%s\\n" "$objects" > "$gd/objects/info/alternates"',
  '[ -f "$gd/HEAD" ] || echo "ref: refs/heads/oxi-head-removed" > "$gd/HEAD"',
  'if [ "$(cd "$ws" && git rev-parse --absolute-git-dir 2>/dev/null)" != "$(cd "$gd" && pwd -P)" ]; then echo "git does not take $gd as the workspace\'s repository" >&2; exit 3; fi',
];

/** sh script: $1 workspace, $2 the host clone's objects dir, $3 the canonical config. */
const SANITIZE = ['ws="$1"; objects="$2"; config="$3"; if [ -n "$4" ] && [ ! -e "$ws/.git" ] && [ ! -L "$ws/.git" ]; then exit 0; fi', ...SANITIZE_BODY].join('\n');

/** sh script: a new workspace $1 (objects $2, config $3) on branch $5 at $4, in one round trip; "$@" after them: the hardened git options. */
const CREATE = [
  'set -e',
  'final="$1"; ws="$1.partial"; objects="$2"; config="$3"; start="$4"; branch="$5"; shift 5',
  // Made whole beside its place, then renamed into it (see ensureWorkspace).
  'rm -rf -- "$ws"; mkdir -p -- "$ws"',
  'export LC_ALL=C GIT_TERMINAL_PROMPT=0 GIT_NO_REPLACE_OBJECTS=1',
  'git "$@" -C "$ws" init --quiet',
  ...SANITIZE_BODY,
  'git "$@" -C "$ws" update-ref "refs/heads/$branch" "$start"',
  'git "$@" -C "$ws" symbolic-ref HEAD "refs/heads/$branch"',
  'git "$@" -C "$ws" reset --quiet --hard "$start"',
  'rmdir -- "$final" 2>/dev/null || true',
  'mv -- "$ws" "$final"',
].join('\n');

/** Puts back the git state of a workspace on the host (before ship recovery and before every launch). */
export async function sanitizeRemote(host: HostTransport, path: string, mainClone: string, options: { ifPresent?: boolean } = {}): Promise<void> {
  const objects = await out(host, mainClone, ['rev-parse', '--path-format=absolute', '--git-path', 'objects']);
  const r = await host.exec(['sh', '-c', SANITIZE, 'oxi', path, objects, CANONICAL_CONFIG, options.ifPresent ? 'if-present' : '']);
  if (r.exitCode !== 0) throw new GitError(`Expected to restore the git state of the workspace ${path} on "${host.name}"; ${r.stderr.trim() || `exit ${r.exitCode}`}.`, { fix: 'Remove the workspace on the host to start it afresh.' });
}

/**
 * Makes `path` the task's workspace on the host: a standalone repository (contract 3.7) reading the host clone's
 * objects through alternates, on `branch`, reusing what a previous run left (like ensureWorkspace).
 */
export async function ensureRemoteWorktree(
  host: HostTransport,
  input: { mainClone: string; path: string; branch: string; base: string; taskId: string; baseSha: string | null },
): Promise<EnsuredWorkspace> {
  const { mainClone, path, branch } = input;
  const check = await remoteGit(host, mainClone, ['check-ref-format', '--branch', branch], { ok: [0, 1, 128] });
  if (check.exitCode !== 0 || branch.startsWith('-')) throw new GitError(`Expected a valid branch name; got ${JSON.stringify(branch)}.`, { fix: 'Use letters, digits, "-", "_", "." and "/".' });
  const baseRef = await fetchBase(host, mainClone, input.base);
  const baseSha = input.baseSha ?? (await commitOf(host, mainClone, baseRef))!;
  const kind = (await host.exec(['sh', '-c', 'if [ -L "$1/.git" ]; then echo link; elif [ -f "$1/.git" ]; then echo file; elif [ -d "$1/.git" ]; then echo dir; elif [ -e "$1" ] && [ -n "$(ls -A -- "$1" 2>/dev/null || echo file)" ]; then echo occupied; else echo none; fi', 'oxi', path])).stdout.trim();
  if (kind === 'file') {
    // A linked worktree left by an older oxi: moved aside whole, nothing in it lost.
    await host.exec(['mv', '--', path, `${path}.legacy-worktree-${Date.now()}`]);
    await remoteGit(host, mainClone, ['worktree', 'prune']);
  } else if (kind === 'dir' || kind === 'link') {
    await sanitizeRemote(host, path, mainClone);
    await remoteGit(host, path, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
    return { path, branch, headSha: (await commitOf(host, path, 'HEAD'))!, baseSha, action: 'reused' };
  } else if (kind === 'occupied') {
    throw new GitError(`Expected ${path} on "${host.name}" to be absent or empty so a workspace can be made there; it holds files but no git repository.`, {
      fix: 'Move or delete that directory on the host, then retry.',
    });
  }
  // The branch may already be upstream (a fix round, or an earlier attempt shipped from another host): continue from it.
  const upstream = `refs/remotes/${UPSTREAM}/${branch}`;
  const fetched = await remoteGit(host, mainClone, ['fetch', '--quiet', '--no-tags', UPSTREAM, `+refs/heads/${branch}:${upstream}`], { ok: [0, 1, 128] });
  const start = (fetched.exitCode === 0 ? await commitOf(host, mainClone, upstream) : undefined) ?? (await commitOf(host, mainClone, taskRef(input.taskId))) ?? baseSha;
  // One round trip: on a busy host each SSH command costs seconds.
  const objects = await out(host, mainClone, ['rev-parse', '--path-format=absolute', '--git-path', 'objects']);
  const made = await host.exec(['sh', '-c', CREATE, 'oxi', path, objects, CANONICAL_CONFIG, start, branch, ...HARDENED_CONFIG]);
  if (made.exitCode !== 0) {
    throw new GitError(`Expected to create the workspace ${path} on "${host.name}" at ${start}; it exited ${made.exitCode}: ${made.stderr.trim().split('\n').slice(0, 8).join('\n')}`, { fix: DEFAULT_FIX });
  }
  return { path, branch, headSha: start, baseSha, action: 'created' };
}

/**
 * Ship recovery on the host (same policy as `ship`), in the workspace once its git state is the engine's again;
 * then the host clone fetches the branch into `refs/oxi/tasks/<id>` and pushes that sha to origin. The push runs
 * from the host clone, whose config the agent never saw, never from the workspace.
 */
export async function shipRemote(host: HostTransport, input: ShipInput & { mainClone: string; mainBranch?: string }): Promise<ShipResult & { pushed: boolean; baseSha: string }> {
  const { worktree, branch, taskId, attempt, mainClone } = input;
  await sanitizeRemote(host, worktree, mainClone);
  const current = await out(host, worktree, ['symbolic-ref', '--quiet', 'HEAD'], { ok: [0, 1] });
  if (current !== `refs/heads/${branch}`) {
    throw new GitError(`Expected the worktree ${worktree} on "${host.name}" to have branch ${branch} checked out; it has ${current ? current.replace('refs/heads/', '') : 'a detached HEAD'}.`, {
      fix: `Check out ${branch} there after saving any work, then ship again.`,
    });
  }
  const status = parseStatus((await remoteGit(host, worktree, ['status', '--porcelain=v1', '-z', '-uall'])).stdout);
  const { toCommit, ledger } = chooseCommit(status, input.policy ?? 'files_touched_only', input.filesTouched, attempt, input.keepOut);
  let committed: string[] = [];
  if (toCommit.length > 0) {
    const before = await commitOf(host, worktree, 'HEAD');
    // update-index takes literal paths (no pathspec globbing of names like `[id].ts`).
    await remoteGit(host, worktree, ['update-index', '--add', '--remove', '--', ...toCommit]);
    const message = `${taskId}: commit the work the worker left uncommitted (attempt ${attempt})\n\nOxi-Task: ${taskId}\n`;
    await remoteGit(host, worktree, ['commit', '--quiet', '--no-verify', '--allow-empty-message', '-m', message], { ok: [0, 1] });
    const sha = await commitOf(host, worktree, 'HEAD');
    if (sha && sha !== before) {
      committed = toCommit;
      ledger.push({ kind: 'ship_recovery.committed', payload: { paths: committed, sha, attempt } });
    }
  }
  const ref = taskRef(taskId);
  await remoteGit(host, mainClone, ['fetch', '--quiet', '--no-tags', '--no-recurse-submodules', '--no-write-fetch-head', worktree, `+refs/heads/${branch}:${ref}`]);
  const headSha = (await commitOf(host, mainClone, ref))!;
  const ahead = Number(await out(host, mainClone, ['rev-list', '--count', `${input.base}..${headSha}`]));
  let baseSha = input.base;
  if (ahead > 0) {
    if ((await remoteGit(host, mainClone, ['merge-base', '--is-ancestor', input.base, headSha], { ok: [0, 1] })).exitCode !== 0) {
      throw new GitError(`Expected the task's head ${headSha} on "${host.name}" to descend from the base ${input.base} recorded at provisioning; it does not.`, {
        fix: 'The worker rewrote history below its base: nothing is pushed. Retry the task to start afresh.',
      });
    }
    // Where the head meets main is the base it is reviewed against (reviewBase, on the engine's side, checks it again).
    const bases = (await out(host, mainClone, ['merge-base', '--all', await fetchBase(host, mainClone, input.mainBranch ?? 'main'), headSha])).split('\n').filter(Boolean);
    if (bases.length === 1) baseSha = bases[0];
  }
  let pushed = false;
  if (ahead > 0) {
    // Why force: the task owns its branch, and a retried attempt replaces what an earlier one pushed.
    await remoteGit(host, mainClone, ['push', '--quiet', '--force', UPSTREAM, `${headSha}:refs/heads/${branch}`], {
      fix: `Check that "${host.name}" may push to ${UPSTREAM} (credentials, branch protection).`,
    });
    pushed = true;
    ledger.push({ kind: 'ship.pushed', payload: { host: host.name, branch, sha: headSha } });
  }
  return { headSha, baseSha, committed, ledger, empty: ahead === 0, pushed };
}
