/**
 * A task's workspace: a standalone git repository of its own (contract 3.7), not a linked worktree. An agent
 * working there shares no refs, config or hooks with the engine's main clone: it reads the main clone's objects
 * through `objects/info/alternates` and writes only its own. The engine brings a task's commits into the main
 * clone by fetching them into `refs/oxi/tasks/<id>`, and reviews and merges them by sha.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GitError } from '../../src/errors.js';
import { assertBranchName, git, gitRun, headSha, isAncestor, resolveCommit } from '../git/git.js';

/** Where the engine keeps a task's commits in the main clone: a namespace no agent can write. */
export function taskRef(taskId: string): string {
  return `refs/oxi/tasks/${taskId}`;
}

/** The config every workspace gets back before the engine runs git there: nothing in it can run code. */
export const CANONICAL_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = false\n[user]\n\tname = oxi\n\temail = oxi@localhost\n';

/** The main clone's object directory, absolute (a workspace's alternates point at it). */
export async function objectsDirOf(mainClone: string): Promise<string> {
  return resolve(mainClone, await git(mainClone, ['rev-parse', '--path-format=absolute', '--git-path', 'objects']));
}

/**
 * Puts back what the engine relies on in a workspace's `.git`, whatever the agent did to it: the canonical
 * config (no hooksPath, fsmonitor, filters or aliases), no hooks, no attributes or commondir redirect, and the
 * alternates pointing at the main clone. Refuses a `.git` that is not a real directory inside the workspace (a
 * symlink to the main clone's would make the engine write there).
 */
export async function sanitizeWorkspaceGit(path: string, mainClone: string, options: { ifPresent?: boolean } = {}): Promise<void> {
  const dotGit = join(path, '.git');
  const info = lstatSync(dotGit, { throwIfNoEntry: false });
  // Before a launch, a directory with no git state at all has nothing to restore (and nothing a mount could follow).
  if (!info && options.ifPresent) return;
  if (info && realpathSync(path) === realpathSync(mainClone)) {
    throw new GitError(`Expected a task's workspace, not the main clone ${mainClone}.`, { fix: 'Give the task a workspace of its own (provisioning makes one).' });
  }
  if (!info?.isDirectory()) {
    throw new GitError(`Expected ${dotGit} to be the workspace's own git directory; it is ${info ? (info.isSymbolicLink() ? 'a symbolic link' : 'not a directory') : 'missing'}.`, {
      fix: 'The agent replaced it: the task is retried in a fresh workspace. Remove the directory to start over by hand.',
    });
  }
  // A symbolic link anywhere in .git (index, logs, info, objects) would send the engine's git writes outside the workspace.
  removeSymlinks(dotGit);
  for (const name of ['config', 'commondir', 'gitdir', 'info/attributes', 'info/grafts', 'shallow', 'objects/info/alternates', 'objects/info/http-alternates']) {
    rmSync(join(dotGit, name), { force: true, recursive: true });
  }
  rmSync(join(dotGit, 'hooks'), { force: true, recursive: true });
  mkdirSync(join(dotGit, 'objects', 'info'), { recursive: true });
  writeFileSync(join(dotGit, 'config'), CANONICAL_CONFIG, { mode: 0o600 });
  writeFileSync(join(dotGit, 'objects', 'info', 'alternates'), `${await objectsDirOf(mainClone)}\n`);
  // Without HEAD or refs git would not see a repository here and would walk up to the main clone holding the workspace.
  mkdirSync(join(dotGit, 'refs', 'heads'), { recursive: true });
  if (!existsSync(join(dotGit, 'HEAD'))) writeFileSync(join(dotGit, 'HEAD'), 'ref: refs/heads/oxi-head-removed\n');
  const gitDir = (await git(path, ['rev-parse', '--absolute-git-dir']).catch(() => '')).trim();
  if (!gitDir || realpathSync(gitDir) !== realpathSync(dotGit)) {
    throw new GitError(`Expected git to take ${dotGit} as the workspace's repository; it takes ${gitDir || 'none'}.`, {
      fix: 'The agent broke the workspace\'s git directory: the task is retried in a fresh workspace. Remove the directory to start over by hand.',
    });
  }
}

/** Deletes every symbolic link under `dir` (the links, never what they point at). */
function removeSymlinks(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isSymbolicLink()) rmSync(full, { force: true });
    else if (entry.isDirectory()) removeSymlinks(full);
  }
}

/** main as it is now, as a branch of the workspace's own: a worker resolving a conflict merges it (its copy, not the engine's). */
async function offerMain(path: string, mainBranch: string, mainClone: string): Promise<void> {
  await git(path, ['update-ref', `refs/heads/${mainBranch}`, await headSha(mainClone, `refs/heads/${mainBranch}`)]);
}

export interface EnsureWorkspaceInput {
  mainClone: string;
  path: string;
  branch: string;
  taskId: string;
  /** The commit the task's change is measured from, once recorded; else main's commit now. */
  baseSha: string | null;
  mainBranch: string;
}

export interface EnsuredWorkspace {
  path: string;
  branch: string;
  headSha: string;
  baseSha: string;
  action: 'reused' | 'created';
}

function holdsFiles(path: string): boolean {
  return existsSync(path) && (!statSync(path).isDirectory() || readdirSync(path).length > 0);
}

/**
 * Makes `path` the task's workspace on `branch`, reusing what a previous run left. A new one starts from the
 * engine's own record of the task (`refs/oxi/tasks/<id>`: an earlier session's shipped work), else from the
 * base commit. A linked worktree left by an older oxi is moved aside whole (nothing in it is lost).
 */
export async function ensureWorkspace(input: EnsureWorkspaceInput): Promise<EnsuredWorkspace> {
  const { mainClone, branch } = input;
  const path = resolve(input.path);
  const [, baseNow, recorded] = await Promise.all([
    assertBranchName(mainClone, branch),
    input.baseSha ? Promise.resolve(input.baseSha) : headSha(mainClone, `refs/heads/${input.mainBranch}`),
    resolveCommit(mainClone, taskRef(input.taskId)),
  ]);
  const baseSha = baseNow;
  const dotGit = join(path, '.git');
  if (existsSync(dotGit) && lstatSync(dotGit).isFile()) {
    renameSync(path, `${path}.legacy-worktree-${Date.now()}`);
    await git(mainClone, ['worktree', 'prune']);
  }
  if (existsSync(dotGit)) {
    await sanitizeWorkspaceGit(path, mainClone);
    const head = await resolveCommit(path, `refs/heads/${branch}`);
    if (head && recorded && head !== recorded && (await isAncestor(mainClone, head, recorded))) {
      // Ship recovery committed what the agent left: the workspace's branch follows, its files already match.
      await git(path, ['update-ref', `refs/heads/${branch}`, recorded, head]);
      await git(path, ['reset', '--quiet', '--mixed', recorded]);
    }
    await git(path, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
    await offerMain(path, input.mainBranch, mainClone);
    return { path, branch, headSha: await headSha(path), baseSha, action: 'reused' };
  }
  if (holdsFiles(path)) {
    throw new GitError(`Expected ${path} to be absent or empty so a workspace can be made there; it holds files but no git repository.`, {
      fix: 'Move or delete that directory, then retry.',
    });
  }
  // An older oxi kept the task's branch in the main clone itself: continue from it.
  const start = recorded ?? (await resolveCommit(mainClone, `refs/heads/${branch}`)) ?? baseSha;
  // Made whole beside its place, then renamed into it: an engine killed half way never leaves a workspace
  // with an empty index or checkout that a worker would commit over (deleting every file it did not write).
  const partial = `${path}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  await git(dirname(path), ['init', '--quiet', partial]);
  await sanitizeWorkspaceGit(partial, mainClone);
  await git(partial, ['update-ref', `refs/heads/${branch}`, start]);
  await git(partial, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  await git(partial, ['reset', '--quiet', '--hard', start]);
  await offerMain(partial, input.mainBranch, mainClone);
  if (existsSync(path)) rmSync(path, { recursive: true }); // the empty directory checked above
  renameSync(partial, path);
  return { path, branch, headSha: start, baseSha, action: 'created' };
}

/**
 * Fetches the workspace's `branch` into the main clone's `refs/oxi/tasks/<id>` and returns its sha. The
 * workspace is read, never trusted: only its branch's objects come over, and the engine's copy is the one
 * reviewed and merged. The main clone's `refs/heads/<branch>` follows (the local forge's pull request).
 */
export async function fetchTaskHead(mainClone: string, workspace: string, branch: string, taskId: string): Promise<string> {
  const ref = taskRef(taskId);
  await git(mainClone, ['fetch', '--quiet', '--no-tags', '--no-recurse-submodules', '--no-write-fetch-head', resolve(workspace), `+refs/heads/${branch}:${ref}`], {
    fix: `Check that ${workspace} still holds the branch ${branch}.`,
  });
  const sha = await headSha(mainClone, ref);
  await git(mainClone, ['update-ref', `refs/heads/${branch}`, sha]);
  return sha;
}

/**
 * The base a shipped head is reviewed against: where it meets main (`merge-base`), which must descend from the
 * base recorded at provisioning. A worker may bring newer main commits into its branch (to resolve a conflict);
 * the base then moves with them, so the reviewed diff is still exactly what a merge into main applies.
 */
export async function reviewBase(repo: string, recordedBase: string, head: string, mainRef: string): Promise<string> {
  if (!(await isAncestor(repo, recordedBase, head))) {
    throw new GitError(`Expected the task's head ${head} to descend from the base ${recordedBase} recorded at provisioning; it does not.`, {
      fix: 'The worker rewrote history below its base: the change is not shipped. Retry the task (task.retry) to start afresh.',
    });
  }
  const bases = (await git(repo, ['merge-base', '--all', mainRef, head])).split('\n').filter(Boolean);
  if (bases.length !== 1) {
    throw new GitError(`Expected the task's head ${head} to meet ${mainRef} at one commit; it meets it at ${bases.length}.`, {
      fix: 'The branch merged main more than once in crossing ways: ask the worker for a branch with a single merge base.',
    });
  }
  return bases[0];
}

/**
 * What the engine reviews and merges is the range base..head, by full sha (contract 3.7): the head descends from
 * the reviewed base, and main meets the head at that very base, so a three-way merge into main applies exactly
 * the reviewed diff (no newer main commit smuggled in, no older history rewritten).
 */
export async function assertReviewedRange(repo: string, baseSha: string, head: string, mainRef: string): Promise<void> {
  const meets = await reviewBase(repo, baseSha, head, mainRef);
  if (meets !== baseSha) {
    throw new GitError(`Expected ${mainRef} to meet the head ${head} at the reviewed base ${baseSha}; it meets it at ${meets}.`, {
      fix: 'The branch or main changed since the review: the change is reviewed again before any merge.',
    });
  }
}

/**
 * A fresh, detached checkout of `sha` for the checks: a standalone repository like a workspace, so code under test
 * shares nothing with the main clone, and stray files a worker left are not part of what is checked.
 */
export async function checksCheckout(mainClone: string, path: string, sha: string): Promise<string> {
  const dir = resolve(path);
  if (existsSync(join(dir, '.git')) && lstatSync(join(dir, '.git')).isDirectory()) {
    await sanitizeWorkspaceGit(dir, mainClone);
    if ((await resolveCommit(dir, 'HEAD')) === sha && (await gitRun(dir, ['status', '--porcelain', '-uall'])).stdout === '') return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  await git(dirname(dir), ['init', '--quiet', dir]);
  await sanitizeWorkspaceGit(dir, mainClone);
  await git(dir, ['update-ref', 'refs/heads/checks', sha]);
  await git(dir, ['checkout', '--quiet', '--detach', sha]);
  return dir;
}
