import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { branchSha, commitAll, ensureWorktree, git, headSha } from '../../../actors/git/git.js';
import { LocalForge, truncateLog } from '../../../actors/forges/local-forge.js';
import { ForgeError } from '../../../src/errors.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { makeRepo, writeFiles, type TestRepo } from '../../helpers/git-repo.js';

interface Fixture {
  r: TestRepo;
  db: Db;
  forge: LocalForge;
  /** A worktree on `branch` with `files` committed; returns its path and head. */
  branch(branch: string, files: Record<string, string>): Promise<{ path: string; head: string }>;
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function fixture(checksCommand = ['node', '--test'], checksTimeoutMs = 30_000): Fixture {
  const r = makeRepo();
  const db = openDb(join(r.scratch, 'oxi.db'));
  cleanups.push(() => {
    db.close();
    r.cleanup();
  });
  let clock = 1_000;
  const forge = new LocalForge({ db, repo: r.dir, mainBranch: 'main', checksCommand, checksTimeoutMs, now: () => clock++, branchPrefix: 'oxi/' });
  return {
    r,
    db,
    forge,
    async branch(branch, files) {
      const path = join(r.scratch, branch.replaceAll('/', '-'));
      await ensureWorktree({ mainClone: r.dir, path, branch, base: 'main' });
      writeFiles(path, files);
      return { path, head: (await commitAll(path, `work on ${branch}`))! };
    },
  };
}

const pr = (task: string, branch: string, headSha: string) => ({ task, branch, base: 'main', title: `${task} title`, body: 'body', headSha });

describe('LocalForge pull requests', () => {
  it('openPr twice gives one PR, adopting it and following its head', async () => {
    const f = fixture();
    const { path, head } = await f.branch('oxi/T1', { 'a.txt': 'a' });
    const first = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    expect(first).toMatchObject({ number: 1, adopted: false, state: 'open', checks: 'pending', headSha: head });
    writeFiles(path, { 'b.txt': 'b' });
    const newHead = (await commitAll(path, 'more'))!;
    const second = await f.forge.openPr(pr('T1', 'oxi/T1', newHead));
    expect(second).toMatchObject({ number: 1, adopted: true, headSha: newHead });
    expect(f.db.prepare('SELECT count(*) AS n FROM pull_request').get()).toEqual({ n: 1 });
    expect(await f.forge.getPr(1)).toMatchObject({ headSha: newHead });
    expect(await f.forge.findPrForBranch('oxi/T1')).toMatchObject({ number: 1 });
    expect(await f.forge.findPrForBranch('oxi/none')).toBeUndefined();
    await expect(f.forge.openPr(pr('T9', 'oxi/missing', head))).rejects.toThrow(ForgeError);
  });

  it('a closed PR does not block a new one; a merged one is adopted', async () => {
    const f = fixture();
    const { head } = await f.branch('oxi/T1', { 'a.txt': 'a' });
    const one = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    f.forge.closePr(one.number);
    const two = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    expect(two).toMatchObject({ number: 2, adopted: false });
    expect((await f.forge.merge(two, head, 'T1')).outcome).toBe('merged');
    expect(await f.forge.openPr(pr('T1', 'oxi/T1', head))).toMatchObject({ number: 2, adopted: true, state: 'merged' });
    expect(await f.forge.findPrForBranch('oxi/T1')).toMatchObject({ number: 2, state: 'merged' });
  });

  it('listOpenPrs gives each open PR with the files its branch changed', async () => {
    const f = fixture();
    const a = await f.branch('oxi/A', { 'a.txt': 'a', 'src/value.js': 'x' });
    const b = await f.branch('oxi/B', { 'b.txt': 'b' });
    await f.forge.openPr(pr('A', 'oxi/A', a.head));
    f.forge.closePr((await f.forge.openPr(pr('B', 'oxi/B', b.head))).number);
    const open = await f.forge.listOpenPrs();
    expect(open.map((p) => [p.branch, p.files.sort()])).toEqual([['oxi/A', ['a.txt', 'src/value.js']]]);
  });

  it('comment adds a comment once per retry', async () => {
    const f = fixture();
    const { head } = await f.branch('oxi/T1', { 'a.txt': 'a' });
    const p = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    await f.forge.comment(p.number, 'critic: approve');
    await f.forge.comment(p.number, 'critic: approve');
    await f.forge.comment(p.number, 'merged');
    expect(f.forge.comments(p.number).map((c) => c.body)).toEqual(['critic: approve', 'merged']);
    await expect(f.forge.comment(99, 'x')).rejects.toThrow(/Expected pull request #99/);
  });
});

describe('LocalForge checks', () => {
  it('records success, and does not rerun for the same sha', async () => {
    const f = fixture();
    const { path, head } = await f.branch('oxi/T1', { 'a.txt': 'a' });
    const p = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    const result = await f.forge.runChecks(p, path);
    expect(result).toMatchObject({ state: 'success', sha: head });
    expect(result.log).toContain('value is 1');
    expect(await f.forge.getPr(p.number)).toMatchObject({ checks: 'success', checksSha: head });
    // Overwriting the recorded log proves the second call returns the record instead of running the checks again.
    f.db.prepare('UPDATE pull_request SET checks_log = ? WHERE number = ?').run('recorded', p.number);
    expect(await f.forge.runChecks(p, path)).toEqual({ state: 'success', sha: head, log: 'recorded' });
  });

  it('records failure, and reruns once the head moves', async () => {
    const f = fixture();
    const { path, head } = await f.branch('oxi/T1', { 'src/value.js': 'module.exports = { value: 2 };\n' });
    const p = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    const failed = await f.forge.runChecks(p, path);
    expect(failed).toMatchObject({ state: 'failure', sha: head });
    expect(failed.log).toMatch(/checks failed: exit code 1/);
    writeFiles(path, { 'src/value.js': 'module.exports = { value: 1 };\n' });
    const fixed = (await commitAll(path, 'fix'))!;
    expect(await f.forge.runChecks(p, path)).toMatchObject({ state: 'success', sha: fixed });
  });

  it('a timeout is a failure and kills the checks', async () => {
    const f = fixture(['node', '-e', 'setTimeout(() => {}, 60000)'], 300);
    const { path, head } = await f.branch('oxi/T1', { 'a.txt': 'a' });
    const p = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    const result = await f.forge.runChecks(p, path);
    expect(result.state).toBe('failure');
    expect(result.log).toContain('timed out after 300 ms');
  });

  it('a checks command that cannot start is a configuration error, not a failed PR', async () => {
    const f = fixture(['definitely-not-a-program-oxi']);
    const { path, head } = await f.branch('oxi/T1', { 'a.txt': 'a' });
    const p = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    await expect(f.forge.runChecks(p, path)).rejects.toThrow(ForgeError);
    expect(await f.forge.getPr(p.number)).toMatchObject({ checks: 'pending' });
  });

  it('truncates long logs to about 64 KB keeping head and tail', () => {
    const log = `HEAD${'x'.repeat(200_000)}TAIL`;
    const cut = truncateLog(log);
    expect(cut.length).toBeLessThan(66 * 1024);
    expect(cut.startsWith('HEAD')).toBe(true);
    expect(cut.endsWith('TAIL')).toBe(true);
  });
});

describe('LocalForge merge', () => {
  it('merges, shows the change in the main worktree, and a second merge is already_merged', async () => {
    const f = fixture();
    const { head } = await f.branch('oxi/T1', { 'feature.txt': 'shipped\n' });
    const p = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    const merged = await f.forge.merge(p, head, 'T1: add feature');
    expect(merged.outcome).toBe('merged');
    expect(await headSha(f.r.dir, 'main')).toBe(merged.mergeSha);
    expect(readFileSync(join(f.r.dir, 'feature.txt'), 'utf8')).toBe('shipped\n');
    expect(await f.forge.getPr(p.number)).toMatchObject({ state: 'merged', mergeSha: merged.mergeSha });
    expect(await f.forge.merge(p, head, 'T1: add feature')).toEqual({ outcome: 'already_merged', mergeSha: merged.mergeSha });
    expect(await git(f.r.dir, ['rev-list', '--count', 'main'])).toBe('2');
  });

  it('re-run after a crash that merged but did not record it finds the squash and records it', async () => {
    const f = fixture();
    const { head } = await f.branch('oxi/T1', { 'feature.txt': 'shipped\n' });
    const p = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    const merged = await f.forge.merge(p, head, 'T1');
    f.db.prepare(`UPDATE pull_request SET state = 'open', merge_sha = NULL WHERE number = ?`).run(p.number);
    expect(await f.forge.merge(p, head, 'T1')).toMatchObject({ outcome: 'already_merged', mergeSha: merged.mergeSha });
    expect(await f.forge.getPr(p.number)).toMatchObject({ state: 'merged', mergeSha: merged.mergeSha });
    expect(await git(f.r.dir, ['rev-list', '--count', 'main'])).toBe('2');
  });

  it('head_moved, conflict and closed leave the PR open or closed and base unmoved', async () => {
    const f = fixture();
    const a = await f.branch('oxi/A', { 'src/value.js': 'module.exports = { value: 2 };\n' });
    const b = await f.branch('oxi/B', { 'src/value.js': 'module.exports = { value: 3 };\n' });
    const pa = await f.forge.openPr(pr('A', 'oxi/A', a.head));
    const pb = await f.forge.openPr(pr('B', 'oxi/B', b.head));
    expect((await f.forge.merge(pa, 'f'.repeat(40), 'A')).outcome).toBe('head_moved');
    expect((await f.forge.merge(pa, a.head, 'A')).outcome).toBe('merged');
    const main = await headSha(f.r.dir, 'main');
    const conflict = await f.forge.merge(pb, b.head, 'B');
    expect(conflict.outcome).toBe('conflict');
    expect(await f.forge.getPr(pb.number)).toMatchObject({ state: 'open' });
    f.forge.closePr(pb.number);
    expect((await f.forge.merge(pb, b.head, 'B')).outcome).toBe('closed');
    expect(await headSha(f.r.dir, 'main')).toBe(main);
  });

  it('a branch a human merged by hand is already_merged', async () => {
    const f = fixture();
    const { head } = await f.branch('oxi/T1', { 'feature.txt': 'by hand\n' });
    const p = await f.forge.openPr(pr('T1', 'oxi/T1', head));
    await git(f.r.dir, ['merge', '--no-ff', '-q', '--no-edit', 'oxi/T1']);
    const main = await headSha(f.r.dir, 'main');
    expect(await f.forge.merge(p, head, 'T1')).toMatchObject({ outcome: 'already_merged', mergeSha: head });
    expect(await f.forge.getPr(p.number)).toMatchObject({ state: 'merged' });
    expect(await headSha(f.r.dir, 'main')).toBe(main);
  });
});

describe('LocalForge deleteBranch', () => {
  it('deletes oxi branches idempotently and refuses others', async () => {
    const f = fixture();
    const { path } = await f.branch('oxi/T1', { 'a.txt': 'a' });
    await git(f.r.dir, ['branch', 'feature/human']);
    await expect(f.forge.deleteBranch('oxi/T1')).rejects.toThrow(/worktree/); // still checked out there
    await git(f.r.dir, ['worktree', 'remove', '--force', path]);
    await f.forge.deleteBranch('oxi/T1');
    expect(await branchSha(f.r.dir, 'oxi/T1')).toBeUndefined();
    await f.forge.deleteBranch('oxi/T1');
    await expect(f.forge.deleteBranch('feature/human')).rejects.toThrow(/oxi does not own/);
    await expect(f.forge.deleteBranch('main')).rejects.toThrow(ForgeError);
    expect(await branchSha(f.r.dir, 'feature/human')).toBeDefined();
    expect(existsSync(path)).toBe(false);
  });
});
