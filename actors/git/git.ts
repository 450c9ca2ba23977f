// Over 400 lines on purpose: the engine's hardened git wrappers in one place, so every git call gets the same environment.
/**
 * Typed wrappers over git: argv-form only (execa), never a shell, never a prompt.
 * Each helper that changes a repository reads its state first, so re-running it after a crash is safe.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { GitError } from '../../src/errors.js';

export interface GitRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  /** Exit codes that are answers rather than failures (e.g. 1 for `merge-base --is-ancestor`). Default [0]. */
  ok?: readonly number[];
  /** Written to git's stdin. */
  input?: string;
  /** Extra environment for this call (e.g. GIT_INDEX_FILE). */
  env?: Record<string, string>;
  /** How to fix a failure, shown under the error. */
  fix?: string;
}

/**
 * The only variables the engine's git inherits (contract 3.7): what git needs to find its programs, the user's
 * own config and SSH agent, and nothing else. A forge token or API key in the engine's environment never
 * reaches git, nor a hook or helper that git might run; GIT_* from a parent git would point us at its repo.
 */
const GIT_ENV_KEPT = ['PATH', 'HOME', 'USER', 'LOGNAME', 'TMPDIR', 'TZ', 'XDG_CONFIG_HOME', 'SSH_AUTH_SOCK', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH'];

/**
 * Options on every git the engine runs, so configuration it did not set cannot run code: no hooks (a worker once
 * planted one), no fsmonitor daemon, no `ext::` transport, replace refs ignored. Diffs pass --no-ext-diff --no-textconv.
 */
export const HARDENED_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'protocol.ext.allow=never', '-c', 'core.untrackedCache=false'];

// Subcommands that write commits: only these need a committer identity.
const COMMITTING = new Set(['commit', 'commit-tree', 'merge', 'cherry-pick', 'rebase', 'revert', 'tag', 'am', 'stash', 'notes']);

const DEFAULT_FIX = 'Run the same git command in that directory to see the full error, repair the repository, and retry.';

/** The scrubbed environment of the engine's git (exported for the tests that attack it). */
export function gitEnv(extra?: Record<string, string>, source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of GIT_ENV_KEPT) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, GIT_TERMINAL_PROMPT: '0', GIT_NO_REPLACE_OBJECTS: '1', LC_ALL: 'C', ...extra };
}

async function spawnGit(cwd: string, args: readonly string[], options: GitOptions): Promise<GitRun> {
  // Loaded on the first git run: a command that only imports this module (oxi status) does not pay for execa.
  const { execa } = await import('execa');
  const result = await execa('git', [...HARDENED_CONFIG, ...args], {
    cwd,
    env: gitEnv(options.env),
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  if (result.exitCode === undefined) {
    throw new GitError(`Expected to run \`git ${args.join(' ')}\` in ${cwd}; it could not start: ${result.message}`, {
      fix: 'Install git (≥ 2.38) on the PATH and check that the directory exists.',
    });
  }
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** `-c user.name=oxi -c user.email=oxi@localhost` for whichever of the two the repository does not configure. */
async function identityArgs(cwd: string, args: readonly string[], env?: Record<string, string>): Promise<string[]> {
  if (!COMMITTING.has(args[0] ?? '')) return [];
  const out: string[] = [];
  for (const [key, fallback] of [['user.name', 'oxi'], ['user.email', 'oxi@localhost']] as const) {
    const r = await spawnGit(cwd, ['config', '--get', key], { env });
    if (r.exitCode !== 0 || r.stdout.trim() === '') out.push('-c', `${key}=${fallback}`);
  }
  return out;
}

/** Runs git; `args[0]` is the subcommand. Throws GitError unless the exit code is in `options.ok` (default [0]). */
export async function gitRun(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitRun> {
  const argv = [...(await identityArgs(cwd, args, options.env)), ...args];
  const run = await spawnGit(cwd, argv, options);
  if (!(options.ok ?? [0]).includes(run.exitCode)) {
    const said = (run.stderr.trim() || run.stdout.trim()).split('\n').slice(0, 8).join('\n');
    throw new GitError(`Expected \`git ${args.join(' ')}\` to succeed in ${cwd}; it exited ${run.exitCode}: ${said}`, {
      fix: options.fix ?? DEFAULT_FIX,
    });
  }
  return run;
}

/** Runs git and returns its stdout without the final newline; throws GitError on a non-zero exit. */
export async function git(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<string> {
  return (await gitRun(cwd, args, options)).stdout.replace(/\n$/, '');
}

/** The commit a ref names, or undefined if it names none. */
export async function resolveCommit(cwd: string, ref: string): Promise<string | undefined> {
  const r = await gitRun(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { ok: [0, 1, 128] });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** The commit `refs/heads/<branch>` points at, or undefined if there is no such branch. */
export function branchSha(repo: string, branch: string): Promise<string | undefined> {
  return resolveCommit(repo, `refs/heads/${branch}`);
}

export async function headSha(cwd: string, ref = 'HEAD'): Promise<string> {
  const sha = await resolveCommit(cwd, ref);
  if (!sha) {
    throw new GitError(`Expected ${ref} to name a commit in ${cwd}; git found none.`, {
      fix: `Check the spelling of ${ref} (git -C ${cwd} show-ref) or create it first.`,
    });
  }
  return sha;
}

export async function assertBranchName(repo: string, branch: string): Promise<void> {
  const r = await gitRun(repo, ['check-ref-format', '--branch', branch], { ok: [0, 1, 128] });
  if (r.exitCode !== 0 || branch.startsWith('-')) {
    throw new GitError(`Expected a valid branch name; got ${JSON.stringify(branch)}.`, {
      fix: 'Use letters, digits, "-", "_", "." and "/" (see git check-ref-format).',
    });
  }
}

/** True if commit `a` is `b` or an ancestor of it. */
export async function isAncestor(repo: string, a: string, b: string): Promise<boolean> {
  return (await gitRun(repo, ['merge-base', '--is-ancestor', a, b], { ok: [0, 1] })).exitCode === 0;
}

/** How many commits HEAD of `path` has that `base` does not. */
export async function commitsAhead(path: string, base: string): Promise<number> {
  return Number(await git(path, ['rev-list', '--count', `${base}..HEAD`]));
}

/** Files the branch changed since it left `base` (merge-base diff); renames appear as delete + add. */
export async function changedFiles(repo: string, base: string, head: string): Promise<string[]> {
  const out = await git(repo, ['diff', '--name-only', '-z', '--no-renames', `${base}...${head}`]);
  return out.split('\0').filter(Boolean);
}

/** Every file a workspace's tree differs in from `base`: committed or not, tracked or new (untracked, not ignored). */
export async function touchedFiles(worktree: string, base: string): Promise<string[]> {
  const [changed, added] = await Promise.all([
    git(worktree, ['diff', '--name-only', '-z', '--no-renames', base]),
    git(worktree, ['ls-files', '-z', '--others', '--exclude-standard']),
  ]);
  return [...new Set([...changed.split('\0'), ...added.split('\0')].filter(Boolean))].sort();
}

/** Files tracked at HEAD of `repo` (the planner's repo context). */
export async function trackedFiles(repo: string): Promise<string[]> {
  const out = await git(repo, ['ls-files', '-z']);
  return out.split('\0').filter(Boolean);
}

/** The patch of the branch since it left `base` (merge-base diff). */
export async function diff(repo: string, base: string, head: string): Promise<string> {
  return (await gitRun(repo, ['diff', '--no-color', '--no-ext-diff', `${base}...${head}`])).stdout;
}

// ---------------------------------------------------------------- worktrees

export interface WorktreeEntry {
  path: string;
  head?: string;
  /** Full ref, e.g. refs/heads/oxi/T1; undefined when detached or bare. */
  branch?: string;
  bare: boolean;
  /** Its directory is gone: `git worktree prune` would forget it. */
  prunable?: boolean;
}

/** Every worktree of the repository; the first is the main one. */
export async function listWorktrees(repo: string): Promise<WorktreeEntry[]> {
  return parseWorktreeList(await git(repo, ['worktree', 'list', '--porcelain', '-z']));
}

/** Parses `git worktree list --porcelain -z` (pure: shared with the remote-host variant). */
export function parseWorktreeList(out: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | undefined;
  for (const line of out.split('\0')) {
    if (line.startsWith('worktree ')) entries.push((current = { path: line.slice(9), bare: false }));
    else if (current && line.startsWith('HEAD ')) current.head = line.slice(5);
    else if (current && line.startsWith('branch ')) current.branch = line.slice(7);
    else if (current && line === 'bare') current.bare = true;
    else if (current && (line === 'prunable' || line.startsWith('prunable '))) current.prunable = true;
  }
  return entries;
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return resolve(a) === resolve(b) || real(a) === real(b);
}

export interface EnsureWorktreeInput {
  mainClone: string;
  path: string;
  branch: string;
  /** Where a new branch starts (a branch name or sha). */
  base: string;
}

export interface EnsuredWorktree {
  path: string;
  branch: string;
  headSha: string;
  /** reused: already there; checked_out: the branch existed; created: the branch was made from base. */
  action: 'reused' | 'checked_out' | 'created';
}

/** Makes `path` a worktree of `mainClone` on `branch`, reusing whatever a previous run left. */
export async function ensureWorktree(input: EnsureWorktreeInput): Promise<EnsuredWorktree> {
  const { mainClone, branch } = input;
  const path = resolve(input.path);
  // Independent reads run side by side: dispatch waits on provisioning, and each git is a process.
  const [, listed, existingSha, baseSha] = await Promise.all([
    assertBranchName(mainClone, branch),
    listWorktrees(mainClone),
    branchSha(mainClone, branch),
    resolveCommit(mainClone, input.base),
  ]);
  let worktrees = listed;
  // Forget worktrees whose directories vanished (a crash, a manual rm), so their branches can be checked out again.
  if (worktrees.some((w) => w.prunable)) {
    await git(mainClone, ['worktree', 'prune']);
    worktrees = await listWorktrees(mainClone);
  }
  const ref = `refs/heads/${branch}`;
  const here = worktrees.find((w) => samePath(w.path, path));
  if (here) {
    if (here.branch === ref) return { path, branch, headSha: await headSha(path), action: 'reused' };
    throw new GitError(
      `Expected the worktree at ${path} to be on branch ${branch}; it is on ${here.branch?.replace('refs/heads/', '') ?? 'a detached HEAD'}.`,
      { fix: `Save any work there, then run: git -C ${mainClone} worktree remove --force ${path}` },
    );
  }
  const elsewhere = worktrees.find((w) => w.branch === ref);
  if (elsewhere) {
    throw new GitError(`Expected branch ${branch} to be free for a worktree at ${path}; it is checked out at ${elsewhere.path}.`, {
      fix: `Remove that worktree (git -C ${mainClone} worktree remove ${elsewhere.path}) or use it instead.`,
    });
  }
  if (existsSync(path) && (!statSync(path).isDirectory() || readdirSync(path).length > 0)) {
    throw new GitError(`Expected ${path} to be absent or empty so a worktree can be made there; it holds files but is no worktree of ${mainClone}.`, {
      fix: 'Move or delete that directory, then retry.',
    });
  }
  if (existingSha) {
    await git(mainClone, ['worktree', 'add', path, branch]);
    return { path, branch, headSha: existingSha, action: 'checked_out' };
  }
  const start = baseSha ?? (await headSha(mainClone, input.base)); // headSha throws the clear error
  await git(mainClone, ['worktree', 'add', '-b', branch, path, start]);
  return { path, branch, headSha: start, action: 'created' };
}

/** Removes the worktree at `path` if it is one; returns whether it removed it. Without `force`, refuses dirty trees. */
export async function removeWorktree(mainClone: string, path: string, options: { force?: boolean } = {}): Promise<boolean> {
  await git(mainClone, ['worktree', 'prune']);
  const found = (await listWorktrees(mainClone)).slice(1).find((w) => samePath(w.path, path));
  if (!found) return false;
  await git(mainClone, ['worktree', 'remove', ...(options.force ? ['--force'] : []), found.path], {
    fix: `Commit or discard the changes in ${path}, or remove it with force.`,
  });
  return true;
}

export interface WorktreeStatus {
  /** Tracked files changed (or deleted) in the working tree but not staged. */
  modified: string[];
  /** Files not known to git (each file, not folders), ignoring .gitignore'd ones. */
  untracked: string[];
  /** Paths with staged changes (both sides of a staged rename). */
  staged: string[];
}

export async function worktreeStatus(path: string): Promise<WorktreeStatus> {
  return parseStatus((await gitRun(path, ['status', '--porcelain=v1', '-z', '-uall'])).stdout);
}

/** Parses `git status --porcelain=v1 -z -uall` (pure: shared with the remote-host variant). */
export function parseStatus(out: string): WorktreeStatus {
  const fields = out.split('\0');
  const modified = new Set<string>();
  const untracked = new Set<string>();
  const staged = new Set<string>();
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i];
    if (entry.length < 4) continue;
    const x = entry[0];
    const y = entry[1];
    const file = entry.slice(3);
    // In -z output a rename or copy is followed by a field holding its source path.
    const source = 'RC'.includes(x) || 'RC'.includes(y) ? fields[++i] : undefined;
    if (x === '?') untracked.add(file);
    else if (x === '!') continue;
    else {
      if (x !== ' ') [file, source].forEach((p) => p && staged.add(p));
      if (y !== ' ') [file, y === 'R' ? source : undefined].forEach((p) => p && modified.add(p));
    }
  }
  return { modified: [...modified], untracked: [...untracked], staged: [...staged] };
}

/**
 * Commits exactly `paths` (relative to the worktree root, as in the working tree: new, changed or deleted) on
 * HEAD, whatever else is staged. Returns the new commit, or undefined if those paths hold no change.
 * Plumbing, not `git commit`: no hooks, no pathspec globbing of names like `[id].ts`.
 */
export async function commitPaths(path: string, paths: readonly string[], message: string): Promise<string | undefined> {
  const unique = [...new Set(paths)];
  if (unique.length === 0) return undefined;
  const list = unique.join('\0') + '\0';
  const parent = await headSha(path);
  // The real index first: a crash after this leaves staged changes, which the next run commits.
  await git(path, ['update-index', '--add', '--remove', '-z', '--stdin'], { input: list });
  const indexFile = `${resolve(path, await git(path, ['rev-parse', '--git-path', 'index']))}.oxi-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const env = { GIT_INDEX_FILE: indexFile };
    await git(path, ['read-tree', parent], { env });
    await git(path, ['update-index', '--add', '--remove', '-z', '--stdin'], { env, input: list });
    const tree = await git(path, ['write-tree'], { env });
    if (tree === (await git(path, ['rev-parse', `${parent}^{tree}`]))) return undefined;
    const sha = await git(path, ['commit-tree', tree, '-p', parent, '-F', '-'], { input: message });
    await git(path, ['update-ref', '-m', `commit: ${message.split('\n')[0]}`, 'HEAD', sha, parent], {
      fix: 'Something else moved HEAD meanwhile; retry once it is done.',
    });
    return sha;
  } finally {
    rmSync(indexFile, { force: true });
  }
}

/** Commits every change `worktreeStatus` reports (gitignored files excluded). */
export async function commitAll(path: string, message: string): Promise<string | undefined> {
  const s = await worktreeStatus(path);
  return commitPaths(path, [...s.staged, ...s.modified, ...s.untracked], message);
}

// ---------------------------------------------------------------- squash merge

/** Trailer squashMerge adds to its commit, so a re-run finds its own earlier merge (a squash is no ancestor). */
export const SQUASH_TRAILER = 'Oxi-Squashed-Head';

export interface SquashMergeInput {
  /** Any worktree of the repository (usually the main clone). */
  repo: string;
  branch: string;
  base: string;
  expectedHead: string;
  message: string;
}

export interface SquashMergeResult {
  outcome: 'merged' | 'already_merged' | 'head_moved' | 'conflict';
  mergeSha?: string;
  detail?: string;
  /** Whether the main worktree (on `base`, clean) had its files brought up to date. */
  worktreeUpdated?: boolean;
}

/**
 * Squash-merges `branch` into `base` without touching any worktree's files except the main one's afterwards:
 * merge-tree, commit-tree, then a compare-and-swap update-ref (retried if base moved meanwhile).
 */
export async function squashMerge(input: SquashMergeInput): Promise<SquashMergeResult> {
  const { repo, branch, base, expectedHead } = input;
  const trailer = `${SQUASH_TRAILER}: ${expectedHead}`;
  const message = input.message.includes(trailer) ? input.message : `${input.message.trimEnd()}\n\n${trailer}\n`;
  for (let attempt = 1; ; attempt++) {
    const head = await branchSha(repo, branch);
    if (head !== expectedHead) {
      return { outcome: 'head_moved', detail: head ? `${branch} is at ${head}, expected ${expectedHead}` : `branch ${branch} does not exist` };
    }
    const old = await headSha(repo, `refs/heads/${base}`);
    if (await isAncestor(repo, head, old)) {
      return { outcome: 'already_merged', mergeSha: head, detail: `${branch} is already contained in ${base}` };
    }
    const earlier = await git(repo, ['rev-list', '-1', '--fixed-strings', `--grep=${trailer}`, `${head}..${old}`]);
    if (earlier) {
      const worktreeUpdated = await refreshMainWorktree(repo, base, `${earlier}^`);
      return { outcome: 'already_merged', mergeSha: earlier, detail: `${base} already has the squash ${earlier}`, worktreeUpdated };
    }
    const mt = await gitRun(repo, ['merge-tree', '--write-tree', '--name-only', '--no-messages', old, head], {
      ok: [0, 1],
      fix: 'squashMerge needs git ≥ 2.38 (merge-tree --write-tree); upgrade git.',
    });
    const [tree, ...conflicted] = mt.stdout.split('\n').filter(Boolean);
    if (mt.exitCode === 1) {
      return { outcome: 'conflict', detail: `${branch} conflicts with ${base} in: ${[...new Set(conflicted)].join(', ')}` };
    }
    if (tree === (await git(repo, ['rev-parse', `${old}^{tree}`]))) {
      return { outcome: 'already_merged', detail: `${base} already has every change of ${branch}` };
    }
    const sha = await git(repo, ['commit-tree', tree, '-p', old, '-F', '-'], { input: message });
    const cas = await gitRun(repo, ['update-ref', '-m', `oxi: squash merge ${branch}`, `refs/heads/${base}`, sha, old], { ok: [0, 1, 128] });
    if (cas.exitCode !== 0) {
      // Someone moved base between our read and our swap: merge again onto the new base.
      if (attempt < 5 && (await branchSha(repo, base)) !== old) continue;
      throw new GitError(`Expected to move ${base} from ${old} to ${sha} in ${repo}; git refused: ${cas.stderr.trim()}`, { fix: DEFAULT_FIX });
    }
    return { outcome: 'merged', mergeSha: sha, worktreeUpdated: await refreshMainWorktree(repo, base, old) };
  }
}

/**
 * If the main worktree has `base` checked out and its index and files still match `from`, moves its files to
 * base's new commit (a user looking at the repo sees the merged code). Never clobbers: false when it did not.
 */
export async function refreshMainWorktree(repo: string, base: string, from: string): Promise<boolean> {
  const [main] = await listWorktrees(repo);
  if (!main || main.bare || main.branch !== `refs/heads/${base}`) return false;
  const cwd = main.path;
  await gitRun(cwd, ['update-index', '-q', '--refresh'], { ok: [0, 1] });
  const indexClean = (await gitRun(cwd, ['diff-index', '--cached', '--quiet', from, '--'], { ok: [0, 1] })).exitCode === 0;
  const filesClean = (await gitRun(cwd, ['diff-files', '--quiet'], { ok: [0, 1] })).exitCode === 0;
  if (!indexClean || !filesClean) return false;
  const to = await headSha(cwd, `refs/heads/${base}`);
  // read-tree -m -u refuses (exit 128) rather than overwrite an untracked file in the way.
  return (await gitRun(cwd, ['read-tree', '-m', '-u', from, to], { ok: [0, 128] })).exitCode === 0;
}
