import { existsSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  changedFiles,
  commitAll,
  commitPaths,
  commitsAhead,
  diff,
  ensureWorktree,
  git,
  headSha,
  isAncestor,
  removeWorktree,
  resolveCommit,
  squashMerge,
  worktreeStatus,
} from '../../../actors/git/git.js';
import { GitError } from '../../../src/errors.js';
import { makeRepo, writeFiles, type TestRepo } from '../../helpers/git-repo.js';

let repos: TestRepo[] = [];
afterEach(() => {
  repos.forEach((r) => r.cleanup());
  repos = [];
});
function repo(files?: Record<string, string>): TestRepo {
  const r = makeRepo({ files });
  repos.push(r);
  return r;
}

/** A worktree on `branch` with `files` committed on top of main; returns its path and head. */
async function branchWith(r: TestRepo, branch: string, files: Record<string, string>): Promise<{ path: string; head: string }> {
  const path = join(r.scratch, branch.replaceAll('/', '-'));
  await ensureWorktree({ mainClone: r.dir, path, branch, base: 'main' });
  writeFiles(path, files);
  const head = (await commitAll(path, `change on ${branch}`))!;
  return { path, head };
}

describe('git()', () => {
  it('commits with the oxi identity when none is configured, and with the repo identity when it is', async () => {
    const r = repo();
    const noConfig = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
    await git(r.dir, ['commit', '--allow-empty', '-q', '-m', 'anonymous'], { env: noConfig });
    expect(await git(r.dir, ['log', '-1', '--format=%an <%ae> / %cn <%ce>'])).toBe('oxi <oxi@localhost> / oxi <oxi@localhost>');
    await git(r.dir, ['config', 'user.name', 'Ada']);
    await git(r.dir, ['config', 'user.email', 'ada@example.org']);
    await git(r.dir, ['commit', '--allow-empty', '-q', '-m', 'named'], { env: noConfig });
    expect(await git(r.dir, ['log', '-1', '--format=%an <%ae>'])).toBe('Ada <ada@example.org>');
  });

  it('throws a GitError saying what failed and resolves refs', async () => {
    const r = repo();
    await expect(git(r.dir, ['rev-parse', '--verify', 'nope'])).rejects.toThrow(GitError);
    await expect(headSha(r.dir, 'nope')).rejects.toThrow(/Expected nope to name a commit/);
    expect(await resolveCommit(r.dir, 'nope')).toBeUndefined();
    expect(await headSha(r.dir)).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('worktrees', () => {
  it('ensureWorktree creates, then reuses, then re-creates a vanished worktree on the same branch', async () => {
    const r = repo();
    const path = join(r.scratch, 'wt');
    const first = await ensureWorktree({ mainClone: r.dir, path, branch: 'oxi/T1', base: 'main' });
    expect(first.action).toBe('created');
    expect(first.headSha).toBe(await headSha(r.dir));
    writeFiles(path, { 'new.txt': 'x\n' });
    await commitAll(path, 'work');
    const again = await ensureWorktree({ mainClone: r.dir, path, branch: 'oxi/T1', base: 'main' });
    expect(again.action).toBe('reused');
    expect(again.headSha).toBe(await headSha(path));
    expect((await git(r.dir, ['worktree', 'list', '--porcelain'])).match(/^worktree /gm)).toHaveLength(2);

    rmSync(path, { recursive: true, force: true }); // a crash or a human removed the directory
    const back = await ensureWorktree({ mainClone: r.dir, path, branch: 'oxi/T1', base: 'main' });
    expect(back.action).toBe('checked_out');
    expect(readFileSync(join(path, 'new.txt'), 'utf8')).toBe('x\n');
  });

  it('refuses a path on another branch, a branch checked out elsewhere, and a non-empty stranger directory', async () => {
    const r = repo();
    const a = join(r.scratch, 'a');
    await ensureWorktree({ mainClone: r.dir, path: a, branch: 'oxi/A', base: 'main' });
    await expect(ensureWorktree({ mainClone: r.dir, path: a, branch: 'oxi/B', base: 'main' })).rejects.toThrow(/to be on branch oxi\/B; it is on oxi\/A/);
    await expect(ensureWorktree({ mainClone: r.dir, path: join(r.scratch, 'b'), branch: 'oxi/A', base: 'main' })).rejects.toThrow(/checked out at/);
    writeFiles(join(r.scratch, 'c'), { 'junk.txt': 'j' });
    await expect(ensureWorktree({ mainClone: r.dir, path: join(r.scratch, 'c'), branch: 'oxi/C', base: 'main' })).rejects.toThrow(/absent or empty/);
    await expect(ensureWorktree({ mainClone: r.dir, path: join(r.scratch, 'd'), branch: '-bad', base: 'main' })).rejects.toThrow(/valid branch name/);
  });

  it('removeWorktree is idempotent and refuses a dirty tree without force', async () => {
    const r = repo();
    const path = join(r.scratch, 'wt');
    await ensureWorktree({ mainClone: r.dir, path, branch: 'oxi/T1', base: 'main' });
    writeFiles(path, { 'dirty.txt': 'd' });
    await expect(removeWorktree(r.dir, path)).rejects.toThrow(GitError);
    expect(await removeWorktree(r.dir, path, { force: true })).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(await removeWorktree(r.dir, path, { force: true })).toBe(false);
  });

  it('worktreeStatus lists modified, staged and each untracked file', async () => {
    const r = repo();
    writeFiles(r.dir, { 'src/value.js': 'changed\n', 'new/deep/a.txt': 'a', 'new/deep/b.txt': 'b', 'staged.txt': 's' });
    unlinkSync(join(r.dir, 'README.md'));
    await git(r.dir, ['add', 'staged.txt']);
    const s = await worktreeStatus(r.dir);
    expect(s.modified.sort()).toEqual(['README.md', 'src/value.js']);
    expect(s.untracked.sort()).toEqual(['new/deep/a.txt', 'new/deep/b.txt']);
    expect(s.staged).toEqual(['staged.txt']);
  });
});

describe('commits', () => {
  it('commitPaths commits exactly the given paths (deletions and glob-like names too) and nothing twice', async () => {
    const r = repo({ 'src/[id].js': 'old\n' });
    writeFiles(r.dir, { 'src/[id].js': 'new\n', 'src/i.js': 'not me\n', 'other.txt': 'leave me' });
    unlinkSync(join(r.dir, 'README.md'));
    const before = await headSha(r.dir);
    const sha = await commitPaths(r.dir, ['src/[id].js', 'README.md', 'other.txt'], 'three paths');
    expect(sha).toBe(await headSha(r.dir));
    expect(await git(r.dir, ['diff', '--name-only', before, sha!])).toBe('README.md\nother.txt\nsrc/[id].js');
    expect(await worktreeStatus(r.dir)).toEqual({ modified: [], untracked: ['src/i.js'], staged: [] });
    expect(await commitPaths(r.dir, ['src/[id].js', 'README.md', 'other.txt'], 'again')).toBeUndefined();
    expect(await commitAll(r.dir, 'rest')).toMatch(/^[0-9a-f]{40}$/);
    expect(await commitAll(r.dir, 'nothing')).toBeUndefined();
  });

  it('commitsAhead, changedFiles, diff and isAncestor measure a branch against base', async () => {
    const r = repo();
    const { path, head } = await branchWith(r, 'oxi/T1', { 'src/value.js': 'module.exports = { value: 2 };\n', 'added.txt': 'a\n' });
    writeFiles(r.dir, { 'README.md': '# moved on\n' });
    await commitAll(r.dir, 'main moves'); // must not show in the branch's merge-base diff
    expect(await commitsAhead(path, 'main')).toBe(1);
    expect((await changedFiles(r.dir, 'main', 'oxi/T1')).sort()).toEqual(['added.txt', 'src/value.js']);
    expect(await diff(r.dir, 'main', head)).toContain('+module.exports = { value: 2 };');
    expect(await isAncestor(r.dir, 'main~1', head)).toBe(true);
    expect(await isAncestor(r.dir, head, 'main')).toBe(false);
  });
});

describe('squashMerge', () => {
  it('merges without touching the branch worktree, updates the clean main worktree, and is idempotent', async () => {
    const r = repo();
    const { path, head } = await branchWith(r, 'oxi/T1', { 'src/value.js': 'module.exports = { value: 2 };\n' });
    const oldMain = await headSha(r.dir);
    const result = await squashMerge({ repo: r.dir, branch: 'oxi/T1', base: 'main', expectedHead: head, message: 'T1: value 2' });
    expect(result).toMatchObject({ outcome: 'merged', worktreeUpdated: true });
    expect(await headSha(r.dir, 'main')).toBe(result.mergeSha);
    expect(await git(r.dir, ['rev-list', '--parents', '-1', 'main'])).toBe(`${result.mergeSha} ${oldMain}`);
    expect(await git(r.dir, ['log', '-1', '--format=%B', 'main'])).toContain(`Oxi-Squashed-Head: ${head}`);
    expect(readFileSync(join(r.dir, 'src/value.js'), 'utf8')).toContain('value: 2');
    expect(await worktreeStatus(r.dir)).toEqual({ modified: [], untracked: [], staged: [] });
    expect(await headSha(path)).toBe(head);

    const again = await squashMerge({ repo: r.dir, branch: 'oxi/T1', base: 'main', expectedHead: head, message: 'T1: value 2' });
    expect(again).toMatchObject({ outcome: 'already_merged', mergeSha: result.mergeSha });
    expect(await headSha(r.dir, 'main')).toBe(result.mergeSha);
  });

  it('reports head_moved and conflict without moving base', async () => {
    const r = repo();
    const { path, head } = await branchWith(r, 'oxi/T1', { 'src/value.js': 'module.exports = { value: 2 };\n' });
    writeFiles(path, { 'more.txt': 'm' });
    await commitAll(path, 'more');
    const main = await headSha(r.dir);
    expect(await squashMerge({ repo: r.dir, branch: 'oxi/T1', base: 'main', expectedHead: head, message: 'm' })).toMatchObject({ outcome: 'head_moved' });

    writeFiles(r.dir, { 'src/value.js': 'module.exports = { value: 3 };\n' });
    await commitAll(r.dir, 'main edits the same line');
    const mainNow = await headSha(r.dir);
    const conflict = await squashMerge({ repo: r.dir, branch: 'oxi/T1', base: 'main', expectedHead: await headSha(path), message: 'm' });
    expect(conflict.outcome).toBe('conflict');
    expect(conflict.detail).toContain('src/value.js');
    expect(await headSha(r.dir, 'main')).toBe(mainNow);
    expect(mainNow).not.toBe(main);
  });

  it('leaves a dirty main worktree alone but still merges', async () => {
    const r = repo();
    const { head } = await branchWith(r, 'oxi/T1', { 'added.txt': 'a\n' });
    writeFileSync(join(r.dir, 'README.md'), 'local edit\n');
    const result = await squashMerge({ repo: r.dir, branch: 'oxi/T1', base: 'main', expectedHead: head, message: 'm' });
    expect(result).toMatchObject({ outcome: 'merged', worktreeUpdated: false });
    expect(readFileSync(join(r.dir, 'README.md'), 'utf8')).toBe('local edit\n');
    expect(existsSync(join(r.dir, 'added.txt'))).toBe(false);
  });

  it('a re-run after a crash between moving base and updating the main worktree finishes the update', async () => {
    const r = repo();
    const { head } = await branchWith(r, 'oxi/T1', { 'added.txt': 'a\n' });
    // Stand-in for the crash: the main worktree is elsewhere during the merge, then back on main with the old index.
    await git(r.dir, ['symbolic-ref', 'HEAD', 'refs/heads/elsewhere']);
    const first = await squashMerge({ repo: r.dir, branch: 'oxi/T1', base: 'main', expectedHead: head, message: 'm' });
    expect(first).toMatchObject({ outcome: 'merged', worktreeUpdated: false });
    await git(r.dir, ['symbolic-ref', 'HEAD', 'refs/heads/main']);
    const second = await squashMerge({ repo: r.dir, branch: 'oxi/T1', base: 'main', expectedHead: head, message: 'm' });
    expect(second).toMatchObject({ outcome: 'already_merged', mergeSha: first.mergeSha, worktreeUpdated: true });
    expect(readFileSync(join(r.dir, 'added.txt'), 'utf8')).toBe('a\n');
    expect(await worktreeStatus(r.dir)).toEqual({ modified: [], untracked: [], staged: [] });
  });
});
