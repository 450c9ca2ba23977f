/**
 * Shadow runs in the whole engine: a real task on the sample project, its worker scripted, its shadow scripted too
 * (same files) or the fake `claude` failing. The task merges as it would without a shadow; main holds the real
 * change only; the pair is recorded with the shadow's checks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_CLAUDE } from '../helpers/agent-deps.js';
import { engineProject } from '../helpers/engine-project.js';
import { gitSync } from '../helpers/git-repo.js';
import { spawn } from 'node:child_process';
import { claimShadowPair, getShadowPairFor, recentShadowPairs, setShadowPid } from '../../src/store/shadow.js';
import { isAlive, waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('shadow runs in the engine', () => {
  it('scripted shadow: the task merges, main has only the real change, the pair matches and its tree passed the checks', async () => {
    const e = await engineProject({ tasks: 1, forge: 'local', cleanups, config: (c) => (c.agents.shadow = { backend: 'scripted' }) });
    const mainBefore = gitSync(e.p.dir, ['rev-parse', 'main']).trim();
    expect((await e.run()).code).toBe(0);
    expect(e.tasks().map((t) => t.status)).toEqual(['merged']);
    const [pair] = recentShadowPairs(e.db);
    expect(pair).toMatchObject({ task: e.p.ids[0], real_outcome: 'ok', shadow_status: 'done', shadow_outcome: 'ok', shadow_checks: 'success', shape_match: 1 });
    expect(JSON.parse(pair.real_files!).length).toBeGreaterThan(0);
    // One squash commit on main, one PR; no shadow branch or ref in the main clone.
    expect(gitSync(e.p.dir, ['rev-list', '--count', `${mainBefore}..main`]).trim()).toBe('1');
    expect(e.db.prepare('SELECT COUNT(*) AS n FROM pull_request').get()).toEqual({ n: 1 });
    expect(gitSync(e.p.dir, ['for-each-ref', '--format=%(refname)'])).not.toContain('shadow');
    expect(gitSync(e.p.dir, ['diff', '--name-only', mainBefore, 'main']).trim().split('\n').sort()).toEqual(JSON.parse(pair.real_files!));
  }, 240_000);

  it('a shadow that fails changes nothing for the task: it merges, the pair records the failure', async () => {
    const e = await engineProject({
      tasks: 1,
      forge: 'local',
      cleanups,
      config: (c) => {
        c.agents.shadow = { backend: 'claude', model: 'scenario-exit-143' };
        c.agents.claude = { command: [process.execPath, FAKE_CLAUDE] };
      },
    });
    expect((await e.run()).code).toBe(0);
    expect(e.tasks().map((t) => t.status)).toEqual(['merged']);
    const [pair] = recentShadowPairs(e.db);
    expect(pair).toMatchObject({ real_outcome: 'ok', shadow_backend: 'claude', shadow_status: 'done', shadow_checks: 'skipped', shape_match: 0 });
    expect(pair.shadow_outcome).not.toBe('ok');
  }, 240_000);

  it('a shadow the last run left running is terminated at the start and recorded as interrupted, never run again', async () => {
    const e = await engineProject({ tasks: 1, forge: 'local', cleanups, config: (c) => (c.agents.shadow = { backend: 'scripted' }) });
    // The process a crashed engine's shadow left behind: its own process group, like a detached session.
    const orphan = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    cleanups.push(() => isAlive(orphan.pid!) && process.kill(-orphan.pid!, 'SIGKILL'));
    const id = claimShadowPair(e.db, { task: 'T9-999', attempt: 0, fix: 0, startSha: 'c'.repeat(40), workspace: '/nowhere', host: 'local', realBackend: 'scripted', realModel: null, shadowBackend: 'scripted', shadowModel: null, at: Date.now() })!;
    setShadowPid(e.db, id, orphan.pid!);
    expect((await e.run()).code).toBe(0);
    expect(getShadowPairFor(e.db, { task: 'T9-999', attempt: 0, fix: 0 })).toMatchObject({ shadow_status: 'interrupted', shadow_error: 'the engine ended while the shadow ran', pid: null });
    await waitFor('the orphaned shadow group gone', () => !isAlive(orphan.pid!), 30_000, 50);
    // The task's own session got its shadow; the interrupted one was not started again.
    expect(recentShadowPairs(e.db).map((p) => [p.task, p.shadow_status])).toEqual([[e.p.ids[0], 'done'], ['T9-999', 'interrupted']]);
  }, 240_000);
});
