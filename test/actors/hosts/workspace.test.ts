/**
 * A task's workspace shares no git state with the main clone (contract 3.7): each attack here is what a worker
 * can do with `git` in its own workspace, and each must leave main, the main clone's config and the engine's
 * git untouched, while the engine still ships, reviews and merges the change by sha.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execaSync } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { gitEnv, headSha, squashMerge } from '../../../actors/git/git.js';
import { ship } from '../../../actors/git/ship.js';
import { assertReviewedRange, ensureWorkspace, fetchTaskHead, reviewBase, sanitizeWorkspaceGit, taskRef } from '../../../actors/hosts/workspace.js';
import { makeRepo, gitSync, writeFiles, type TestRepo } from '../../helpers/git-repo.js';

let repos: TestRepo[] = [];
afterEach(() => {
  repos.forEach((r) => r.cleanup());
  repos = [];
});

async function bed() {
  const r = makeRepo();
  repos.push(r);
  const ws = join(r.scratch, 'ws', 'T1');
  const made = await ensureWorkspace({ mainClone: r.dir, path: ws, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  const main = () => gitSync(r.dir, ['rev-parse', 'refs/heads/main']).trim();
  /** What the engine does after a session: ship recovery in the (restored) workspace, then the fetch by sha. */
  const shipIt = async (filesTouched: string[] = []) => {
    await sanitizeWorkspaceGit(ws, r.dir);
    const shipped = await ship({ worktree: ws, base: made.baseSha, branch: 'oxi/t1', filesTouched, taskId: 'T1', attempt: 1 });
    return { ...shipped, fetched: await fetchTaskHead(r.dir, ws, 'oxi/t1', 'T1') };
  };
  return { r, ws, made, main, shipIt };
}

describe('ensureWorkspace', () => {
  it('makes a standalone repository on the task branch, at main, sharing only objects with the main clone', async () => {
    const { r, ws, made, main } = await bed();
    expect(made.action).toBe('created');
    expect(made.baseSha).toBe(main());
    expect(lstatSync(join(ws, '.git')).isDirectory()).toBe(true);
    expect(gitSync(ws, ['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/oxi/t1');
    // Its only refs: its branch, and its own copy of main as it is now (to merge when resolving a conflict).
    expect(gitSync(ws, ['for-each-ref', '--format=%(refname) %(objectname)']).trim().split('\n')).toEqual([`refs/heads/main ${main()}`, `refs/heads/oxi/t1 ${main()}`]);
    expect(gitSync(r.dir, ['worktree', 'list', '--porcelain']).match(/^worktree /gm)).toHaveLength(1);
    expect(readFileSync(join(ws, 'src/value.js'), 'utf8')).toContain('value: 1');
    const again = await ensureWorkspace({ mainClone: r.dir, path: ws, branch: 'oxi/t1', taskId: 'T1', baseSha: made.baseSha, mainBranch: 'main' });
    expect(again.action).toBe('reused');
  });

  it('a new workspace continues from the engine’s record of the task, not from main', async () => {
    const { r, ws, shipIt } = await bed();
    writeFiles(ws, { 'src/value.js': 'module.exports = { value: 2 };\n' });
    const { fetched } = await shipIt(['src/value.js']);
    rmSync(ws, { recursive: true, force: true });
    const again = await ensureWorkspace({ mainClone: r.dir, path: ws, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
    expect(again.headSha).toBe(fetched);
    expect(readFileSync(join(ws, 'src/value.js'), 'utf8')).toContain('value: 2');
  });
});

describe('a worker’s git tricks in its workspace', () => {
  it('moving main, tagging main, or a branch named HEAD there changes nothing the engine reads', async () => {
    const { r, ws, main, shipIt, made } = await bed();
    const before = main();
    writeFiles(ws, { '.github/workflows/evil.yml': 'on: push\n' });
    gitSync(ws, ['add', '-A']);
    gitSync(ws, ['commit', '-qm', 'A: evil workflow']);
    const evil = gitSync(ws, ['rev-parse', 'HEAD']).trim();
    writeFiles(ws, { 'src/value.js': 'module.exports = { value: 3 };\n' });
    gitSync(ws, ['commit', '-qam', 'B: the change']);
    gitSync(ws, ['tag', 'main', evil]);
    gitSync(ws, ['update-ref', 'refs/heads/main', 'HEAD']);
    gitSync(ws, ['update-ref', 'refs/heads/HEAD', evil]);
    gitSync(ws, ['update-ref', `refs/tags/${evil}`, 'HEAD']);
    expect(main()).toBe(before);
    expect(gitSync(r.dir, ['tag', '--list']).trim()).toBe('');
    const { fetched } = await shipIt(['src/value.js']);
    // The reviewed range is base..head by sha: it shows both commits, the workflow included.
    const files = gitSync(r.dir, ['diff', '--name-only', made.baseSha, fetched]).trim().split('\n').sort();
    expect(files).toEqual(['.github/workflows/evil.yml', 'src/value.js']);
    expect(gitSync(r.dir, ['rev-parse', taskRef('T1')]).trim()).toBe(fetched);
  });

  it('a hook path, an fsmonitor and a filter driver planted in its config never run under the engine’s git', async () => {
    const { r, ws, shipIt } = await bed();
    const marker = join(r.scratch, 'pwned');
    const hooks = join(r.scratch, 'hooks');
    mkdirSync(hooks);
    const payload = `#!/bin/sh\nenv > ${marker}\n`;
    mkdirSync(join(ws, '.git', 'hooks'), { recursive: true });
    for (const name of ['pre-commit', 'post-commit', 'reference-transaction', 'post-checkout', 'pre-push']) {
      writeFileSync(join(hooks, name), payload);
      chmodSync(join(hooks, name), 0o755);
      writeFileSync(join(ws, '.git', 'hooks', name), payload);
      chmodSync(join(ws, '.git', 'hooks', name), 0o755);
    }
    gitSync(ws, ['config', 'core.hooksPath', hooks]);
    gitSync(ws, ['config', 'core.fsmonitor', join(hooks, 'pre-commit')]);
    gitSync(ws, ['config', 'filter.evil.clean', join(hooks, 'pre-commit')]);
    writeFiles(ws, { '.gitattributes': '* filter=evil\n', 'src/new.js': 'module.exports = 1;\n' });
    // The agent's own commit runs its hooks (that is its business, inside its sandbox): start clean after it.
    rmSync(marker, { force: true });
    const shipped = await shipIt(['src/new.js', '.gitattributes']);
    expect(shipped.committed.sort()).toEqual(['.gitattributes', 'src/new.js']);
    await squashMerge({ repo: r.dir, branch: 'oxi/t1', base: 'main', expectedHead: shipped.fetched, message: 'T1' });
    expect(existsSync(marker)).toBe(false);
    expect(execaSync('git', ['config', '--get', 'core.hooksPath'], { cwd: r.dir, reject: false }).stdout).toBe('');
  });

  it('a .git replaced by a symbolic link to the main clone’s is refused, never written through', async () => {
    const { r, ws } = await bed();
    rmSync(join(ws, '.git'), { recursive: true, force: true });
    symlinkSync(join(r.dir, '.git'), join(ws, '.git'));
    const config = readFileSync(join(r.dir, '.git', 'config'), 'utf8');
    await expect(sanitizeWorkspaceGit(ws, r.dir)).rejects.toThrow(/symbolic link/);
    expect(readFileSync(join(r.dir, '.git', 'config'), 'utf8')).toBe(config);
  });
});

describe('sanitizeWorkspaceGit', () => {
  it('removes links in .git, re-points alternates, and keeps git from walking up to a main clone that holds the workspace', async () => {
    const r = makeRepo();
    repos.push(r);
    // The default layout: workspaces under the state dir, inside the main clone.
    const ws = join(r.dir, '.oxi', 'worktrees', 'p-default', 'T1');
    await ensureWorkspace({ mainClone: r.dir, path: ws, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
    const outside = join(r.scratch, 'outside');
    mkdirSync(outside);
    rmSync(join(ws, '.git', 'index'));
    symlinkSync(join(outside, 'index'), join(ws, '.git', 'index'));
    symlinkSync(outside, join(ws, '.git', 'logs-elsewhere'));
    writeFileSync(join(ws, '.git', 'objects', 'info', 'alternates'), `${r.scratch}\n`);
    rmSync(join(ws, '.git', 'HEAD'));
    const mainHead = gitSync(r.dir, ['symbolic-ref', 'HEAD']).trim();
    await sanitizeWorkspaceGit(ws, r.dir);
    expect(lstatSync(join(ws, '.git', 'logs-elsewhere'), { throwIfNoEntry: false })).toBeUndefined();
    expect(existsSync(join(ws, '.git', 'index'))).toBe(false);
    expect(readFileSync(join(ws, '.git', 'objects', 'info', 'alternates'), 'utf8').trim()).toBe(join(r.dir, '.git', 'objects'));
    // Provisioning again puts the task's branch back, in the workspace and not in the main clone.
    await ensureWorkspace({ mainClone: r.dir, path: ws, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
    expect(gitSync(ws, ['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/oxi/t1');
    expect(gitSync(r.dir, ['symbolic-ref', 'HEAD']).trim()).toBe(mainHead);
    expect(existsSync(join(outside, 'index'))).toBe(false);
  });
});

describe('assertReviewedRange', () => {
  it('accepts base..head of the task’s own commits; moves the base when the head merged main; refuses a head off the base', async () => {
    const { r, ws, made, shipIt } = await bed();
    writeFiles(ws, { 'src/value.js': 'module.exports = { value: 4 };\n' });
    const { fetched } = await shipIt(['src/value.js']);
    await expect(assertReviewedRange(r.dir, made.baseSha, fetched, 'refs/heads/main')).resolves.toBeUndefined();
    // main moves on; a head that merged main's newer commit brings a commit that is not the task's.
    writeFiles(r.dir, { 'README.md': '# moved\n' });
    gitSync(r.dir, ['commit', '-qam', 'main moves']);
    const newer = gitSync(r.dir, ['rev-parse', 'HEAD']).trim();
    gitSync(ws, ['merge', '-q', '--no-edit', newer]);
    const merged = (await shipIt()).fetched;
    // Its review base moves to where it meets main; the old base no longer describes what a merge would apply.
    expect(await reviewBase(r.dir, made.baseSha, merged, 'refs/heads/main')).toBe(newer);
    await expect(assertReviewedRange(r.dir, made.baseSha, merged, 'refs/heads/main')).rejects.toThrow(/meets it at/);
    await expect(assertReviewedRange(r.dir, newer, merged, 'refs/heads/main')).resolves.toBeUndefined();
    // A head rewritten below its base (an orphan history) does not descend from it.
    gitSync(ws, ['checkout', '-q', '--orphan', 'tmp']);
    gitSync(ws, ['commit', '-qm', 'orphan']);
    gitSync(ws, ['branch', '-f', 'oxi/t1', 'tmp']);
    gitSync(ws, ['checkout', '-q', 'oxi/t1']);
    const orphan = await fetchTaskHead(r.dir, ws, 'oxi/t1', 'T1');
    await expect(assertReviewedRange(r.dir, made.baseSha, orphan, 'refs/heads/main')).rejects.toThrow(/descend/);
    expect(await headSha(r.dir, 'refs/heads/main')).toBe(newer);
  });
});

describe('gitEnv', () => {
  it('hands git no token or key from the engine’s environment', () => {
    const env = gitEnv(undefined, { PATH: '/bin', HOME: '/h', GH_TOKEN: 'ghp_x', GITHUB_TOKEN: 'y', ANTHROPIC_API_KEY: 'z', GIT_DIR: '/elsewhere', SSH_AUTH_SOCK: '/s' });
    expect(env).toMatchObject({ PATH: '/bin', HOME: '/h', SSH_AUTH_SOCK: '/s', GIT_TERMINAL_PROMPT: '0' });
    expect(Object.keys(env)).not.toEqual(expect.arrayContaining(['GH_TOKEN']));
    for (const secret of ['GH_TOKEN', 'GITHUB_TOKEN', 'ANTHROPIC_API_KEY', 'GIT_DIR']) expect(env[secret]).toBeUndefined();
  });
});
