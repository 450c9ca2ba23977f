/**
 * Shadow runs in the whole engine when the worker runs on an SSH host (a real sshd on loopback, with its own clone
 * and worktrees root): the scripted agent as both routes. The shadow's workspace and stream are on the host beside
 * the real ones; the pair is recorded with the files git on the host reports; nothing of the shadow is pushed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REMOTE_CHECKS_SKIPPED } from '../../actors/effects/shadow-remote.js';
import { recentShadowPairs } from '../../src/store/shadow.js';
import { engineProject } from '../helpers/engine-project.js';
import { gitSync } from '../helpers/git-repo.js';
import { startSshd } from '../helpers/sshd.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('shadow runs on an SSH host', () => {
  it('the shadow runs on the worker\'s host in a sibling workspace; the pair matches; main has only the real change; no shadow branch is pushed', async () => {
    const sshd = await startSshd();
    cleanups.push(() => sshd.cleanup());
    const work = join(sshd.dir, 'work');
    const clone = join(sshd.dir, 'clone');
    const e = await engineProject({
      tasks: 1,
      forge: 'local',
      cleanups,
      config: (c) => {
        c.hosts = [{ name: 'alpha', kind: 'ssh', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHosts: sshd.knownHosts, maxWorkers: 1, mainClone: clone, worktreesRoot: work }];
        c.planTier = { maxWorkers: 1 };
        c.agents.shadow = { backend: 'scripted' };
      },
    });
    // The host's clone, whose origin is the project (as the SSH host setup expects).
    execFileSync('git', ['clone', '-q', e.p.dir, clone]);
    const mainBefore = gitSync(e.p.dir, ['rev-parse', 'main']).trim();
    expect((await e.run()).code).toBe(0);
    expect(e.tasks().map((t) => t.status)).toEqual(['merged']);
    const [pair] = recentShadowPairs(e.db);
    const task = e.p.ids[0];
    const ns = `${JSON.parse(readFileSync(e.p.configPath, 'utf8')).name}-default`;
    expect(pair).toMatchObject({
      task, host: 'alpha', start_sha: mainBefore, workspace: join(work, `${ns}-shadow`, `${task}-a0-f0`),
      real_outcome: 'ok', shadow_status: 'done', shadow_outcome: 'ok', shape_match: 1,
      // Its tree is never shipped, so the checks (which run on a pushed branch) never see it.
      shadow_checks: 'skipped', shadow_checks_reason: REMOTE_CHECKS_SKIPPED,
    });
    const files = JSON.parse(pair.shadow_files!) as string[];
    expect(files.length).toBeGreaterThan(0);
    expect(JSON.parse(pair.real_files!)).toEqual(files);
    // On the host, beside the real workspace: the shadow's own commit of those files, its stream under the host's logs.
    expect(existsSync(join(work, ns, task))).toBe(true);
    expect(gitSync(pair.workspace, ['diff', '--name-only', mainBefore, 'HEAD']).trim().split('\n').sort()).toEqual(files);
    expect(existsSync(join(work, '.oxi-logs', ns, task, 'shadow', 'shadow-a0-f0.ndjson'))).toBe(true);
    expect(existsSync(join(e.adapter.paths.logs, task, 'shadow'))).toBe(false);
    // One squash commit on main, one PR; no shadow branch or ref in the project, nor in the host's clone.
    expect(gitSync(e.p.dir, ['rev-list', '--count', `${mainBefore}..main`]).trim()).toBe('1');
    expect(e.db.prepare('SELECT COUNT(*) AS n FROM pull_request').get()).toEqual({ n: 1 });
    expect(gitSync(e.p.dir, ['for-each-ref', '--format=%(refname)'])).not.toContain('shadow');
    expect(gitSync(clone, ['for-each-ref', '--format=%(refname)'])).not.toContain('shadow');
    expect(gitSync(e.p.dir, ['diff', '--name-only', mainBefore, 'main']).trim().split('\n').sort()).toEqual(JSON.parse(pair.real_files!));
  }, 300_000);
});
