import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureWorktree, git, headSha, worktreeStatus } from '../../../actors/git/git.js';
import { declared, ship, type ShipInput } from '../../../actors/git/ship.js';
import { makeRepo, writeFiles, type TestRepo } from '../../helpers/git-repo.js';

let repos: TestRepo[] = [];
afterEach(() => {
  repos.forEach((r) => r.cleanup());
  repos = [];
});

async function setup(): Promise<{ r: TestRepo; wt: string; input: (over: Partial<ShipInput>) => ShipInput }> {
  const r = makeRepo();
  repos.push(r);
  const wt = join(r.scratch, 'wt');
  await ensureWorktree({ mainClone: r.dir, path: wt, branch: 'oxi/T1', base: 'main' });
  const input = (over: Partial<ShipInput>): ShipInput => ({
    worktree: wt,
    base: 'main',
    branch: 'oxi/T1',
    filesTouched: [],
    taskId: 'T1',
    attempt: 1,
    ...over,
  });
  return { r, wt, input };
}

async function committedFiles(wt: string): Promise<string[]> {
  return (await git(wt, ['diff', '--name-only', 'main...HEAD'])).split('\n').filter(Boolean).sort();
}

describe('declared', () => {
  it('matches equal paths and folder entries ending in /', () => {
    expect(declared('src/a.ts', ['src/a.ts'])).toBe(true);
    expect(declared('src/a.ts', ['./src/a.ts'])).toBe(true);
    expect(declared('src/deep/a.ts', ['src/'])).toBe(true);
    expect(declared('src/a.ts', ['src'])).toBe(false);
    expect(declared('srcx/a.ts', ['src/'])).toBe(false);
  });
});

describe('ship', () => {
  it('files_touched_only commits tracked changes and declared new files, never .oxi/, then is a no-op', async () => {
    const { wt, input } = await setup();
    writeFiles(wt, {
      'src/value.js': 'module.exports = { value: 2 };\n',
      'src/new.js': 'new\n',
      'lib/deep/x.js': 'x\n',
      '.oxi/result.json': '{}',
    });
    const result = await ship(input({ filesTouched: ['src/new.js', 'lib/'] }));
    expect(result.committed.sort()).toEqual(['lib/deep/x.js', 'src/new.js', 'src/value.js']);
    expect(result.ledger).toEqual([
      { kind: 'ship_recovery.committed', payload: { paths: result.committed, sha: result.headSha, attempt: 1 } },
    ]);
    expect(result.empty).toBe(false);
    expect(result.headSha).toBe(await headSha(wt));
    expect(await committedFiles(wt)).toEqual(['lib/deep/x.js', 'src/new.js', 'src/value.js']);
    expect((await worktreeStatus(wt)).untracked).toEqual(['.oxi/result.json']);

    const again = await ship(input({ filesTouched: ['src/new.js', 'lib/'] }));
    expect(again).toEqual({ headSha: result.headSha, committed: [], ledger: [], empty: false });
  });

  it('files_touched_only commits nothing when a stray untracked file exists, and logs the strays', async () => {
    const { wt, input } = await setup();
    const before = await headSha(wt);
    writeFiles(wt, { 'src/value.js': 'module.exports = { value: 2 };\n', 'src/new.js': 'new\n', 'notes/scratch.md': 'tmp', 'debug.log': 'd' });
    const result = await ship(input({ filesTouched: ['src/new.js'] }));
    expect(result.committed).toEqual([]);
    expect(result.ledger).toEqual([
      { kind: 'ship_recovery.skipped_dirty_tree', payload: { paths: ['debug.log', 'notes/scratch.md'], attempt: 1 } },
    ]);
    expect(result.headSha).toBe(before);
    expect(result.empty).toBe(true);
    expect((await worktreeStatus(wt)).modified).toEqual(['src/value.js']);
  });

  it('strict refuses any dirty tree', async () => {
    const { wt, input } = await setup();
    writeFiles(wt, { 'src/value.js': 'changed\n' });
    const result = await ship(input({ policy: 'strict', filesTouched: ['src/value.js'] }));
    expect(result.committed).toEqual([]);
    expect(result.ledger).toEqual([{ kind: 'ship_recovery.refused_dirty_tree', payload: { paths: ['src/value.js'], attempt: 1 } }]);
    expect(result.empty).toBe(true);
  });

  it('strict on a clean tree with the agent’s own commits ships them untouched', async () => {
    const { wt, input } = await setup();
    writeFiles(wt, { 'src/value.js': 'changed\n' });
    await git(wt, ['commit', '-qam', 'agent commit']);
    const result = await ship(input({ policy: 'strict' }));
    expect(result).toEqual({ headSha: await headSha(wt), committed: [], ledger: [], empty: false });
  });

  it('permissive commits everything except .oxi/', async () => {
    const { wt, input } = await setup();
    writeFiles(wt, { 'stray.txt': 's', 'src/value.js': 'changed\n', '.oxi/log': 'l' });
    await git(wt, ['add', '.oxi/log']); // even if the agent staged it
    const result = await ship(input({ policy: 'permissive' }));
    expect(result.committed).toEqual(['src/value.js', 'stray.txt']);
    expect(await committedFiles(wt)).toEqual(['src/value.js', 'stray.txt']);
  });

  it('refuses to commit onto a branch other than the task’s', async () => {
    const { wt, input } = await setup();
    await git(wt, ['checkout', '-q', '-b', 'somewhere-else']);
    await expect(ship(input({}))).rejects.toThrow(/to have branch oxi\/T1 checked out; it has somewhere-else/);
  });
});
