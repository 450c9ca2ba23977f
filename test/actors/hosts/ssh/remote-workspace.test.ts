/**
 * The SSH host's side of workspaces (actors/hosts/ssh/remote-git.ts), driven through a HostTransport: here the local
 * one, so the scripts the host runs are tested without sshd (test/actors/hosts/ssh covers the transport itself).
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalHost } from '../../../../actors/hosts/local-host.js';
import { ensureRemoteWorktree, shipRemote } from '../../../../actors/hosts/ssh/remote-git.js';
import { gitSync, makeRepo, writeFiles, type TestRepo } from '../../../helpers/git-repo.js';

let repos: TestRepo[] = [];
afterEach(() => {
  repos.forEach((r) => r.cleanup());
  repos = [];
});

describe('workspaces on a host', () => {
  it('are standalone repositories; a worker’s hooks and moved refs stay there; the host clone pushes the shipped sha', async () => {
    const r = makeRepo();
    repos.push(r);
    const clone = join(r.scratch, 'clone');
    execFileSync('git', ['clone', '-q', r.dir, clone]);
    const ws = join(r.scratch, 'work', 'T1');
    const host = new LocalHost('h');
    const made = await ensureRemoteWorktree(host, { mainClone: clone, path: ws, branch: 'oxi/t1', base: 'main', taskId: 'T1', baseSha: null });
    expect(made.action).toBe('created');
    expect(lstatSync(join(ws, '.git')).isDirectory()).toBe(true);
    expect(gitSync(ws, ['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/oxi/t1');
    const mainBefore = gitSync(r.dir, ['rev-parse', 'refs/heads/main']).trim();
    // The worker's tricks: a hook for the engine's commit, main moved in its own repository.
    const marker = join(r.scratch, 'pwned');
    mkdirSync(join(ws, '.git', 'hooks'), { recursive: true });
    writeFileSync(join(ws, '.git', 'hooks', 'pre-commit'), `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(join(ws, '.git', 'hooks', 'pre-commit'), 0o755);
    gitSync(ws, ['config', 'core.hooksPath', join(ws, '.git', 'hooks')]);
    gitSync(ws, ['update-ref', 'refs/heads/main', made.headSha]);
    writeFiles(ws, { 'src/x.js': 'module.exports = 2;\n' });
    const shipped = await shipRemote(host, { mainClone: clone, mainBranch: 'main', worktree: ws, base: made.baseSha, branch: 'oxi/t1', filesTouched: ['src/x.js'], taskId: 'T1', attempt: 1 });
    expect(shipped.committed).toEqual(['src/x.js']);
    expect(shipped.pushed).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(gitSync(r.dir, ['rev-parse', 'refs/heads/oxi/t1']).trim()).toBe(shipped.headSha);
    expect(gitSync(clone, ['rev-parse', 'refs/oxi/tasks/T1']).trim()).toBe(shipped.headSha);
    expect(gitSync(r.dir, ['rev-parse', 'refs/heads/main']).trim()).toBe(mainBefore);
    const again = await ensureRemoteWorktree(host, { mainClone: clone, path: ws, branch: 'oxi/t1', base: 'main', taskId: 'T1', baseSha: made.baseSha });
    expect(again.action).toBe('reused');
    expect(again.headSha).toBe(shipped.headSha);
  });
});
