import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeGitHub } from '../helpers/fake-github.js';
import { gitSync } from '../helpers/git-repo.js';
import { engineProject } from '../helpers/engine-project.js';
import { TOKEN } from '../helpers/github-remote.js';
import { waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const prOf = (gh: FakeGitHub, branch: string) => [...gh.pulls.values()].filter((p) => p.head === branch);

describe('GitHub forge end to end', () => {
  it('runs five tasks through the fake GitHub: merged, CI-failed, merged by a human, closed, merged by auto-merge', { timeout: 180_000 }, async () => {
    const t = await engineProject({ tasks: 5, forge: 'github', cleanups });
    const gh = t.gh!;
    // T0-101 normal; T1-102 CI always red; T2-103 a human merges it; T0-104 a human closes it; T1-105 needs an approving review.
    gh.ci = ({ branch }) => (branch === 'oxi/t1-102' ? 'failure' : branch === 'oxi/t2-103' || branch === 'oxi/t0-104' ? 'pending' : 'success');
    gh.onPullCreated = (pr) => {
      if (pr.head === 'oxi/t2-103') setTimeout(() => void gh.humanMerge(pr.number), 300);
      if (pr.head === 'oxi/t0-104') setTimeout(() => gh.humanClose(pr.number), 300);
      if (pr.head === 'oxi/t1-105') pr.blocked = true;
    };
    gh.secondaryRateLimit(/\/pulls$/);
    gh.fail({ method: 'GET', path: /\/pulls$/, status: 502, times: 2 });
    gh.fail({ method: 'GET', path: /\/check-runs$/, status: 503, times: 1 });
    gitSync(gh.o.bare, ['branch', 'feature/human', 'main']);

    const done = t.run();
    // The reviewer approves once auto-merge is armed; GitHub then merges it on its own.
    const armed = await waitFor('auto-merge armed on T1-105', () => prOf(gh, 'oxi/t1-105').find((p) => p.auto_merge), 60_000);
    await waitFor('the engine refused to merge T1-105 itself', () => t.events('auto_merge.refused').some((e) => e.task === 'T1-105'), 60_000);
    await gh.approve(armed.number);
    const exit = await done;
    expect(exit.code, exit.reason).toBe(0);

    const byId = Object.fromEntries(t.tasks().map((r) => [r.id, r]));
    expect(Object.fromEntries(Object.entries(byId).map(([id, r]) => [id, r.status]))).toEqual({
      'T0-101': 'merged', 'T1-102': 'abandoned', 'T2-103': 'merged', 'T0-104': 'abandoned', 'T1-105': 'merged',
    });
    expect(byId['T1-102'].reason).toMatch(/rejected after 2 fix attempts: Checks failed:[\s\S]*check test: failure/);
    expect(byId['T0-104'].reason).toBe('PR closed unmerged');
    // One PR per task, however often it was retried or sent back to its worker.
    for (const r of Object.values(byId)) expect(prOf(gh, `oxi/${r.id.toLowerCase()}`), r.id).toHaveLength(1);
    // Merged behind the engine's back (human, auto-merge) is a no-op success, never a rejection.
    const noop = t.events('auto_merge.noop_already_merged').map((e) => e.task);
    expect(noop).toEqual(expect.arrayContaining(['T2-103', 'T1-105']));
    expect(t.events('auto_merge.merged').map((e) => e.task)).toEqual(['T0-101']);
    expect(t.events('auto_merge.conflict')).toEqual([]);
    expect(t.events('auto_merge.armed').map((e) => e.task)).toEqual(['T1-105']);
    expect(t.events('auto_merge.refused').filter((e) => e.task === 'T1-105')).toHaveLength(1);
    // The red CI was reported as a CI issue and the critic never saw that PR.
    expect(t.events('ci.issue').filter((e) => e.task === 'T1-102').length).toBeGreaterThanOrEqual(1);
    expect(t.events('critic.approve').map((e) => e.task)).not.toContain('T1-102');
    // GitHub's main has the merged work; the janitor removed merged branches only.
    expect(gh.git(['show', 'main:src/double.js'])).toContain('double');
    expect(gh.git(['show', 'main:src/negate.js'])).toContain('negate');
    expect(gh.git(['show', 'main:src/increment.js'])).toContain('increment');
    const remote = gh.branchesInRemote();
    for (const merged of ['oxi/t0-101', 'oxi/t2-103', 'oxi/t1-105']) expect(remote).not.toContain(merged);
    expect(remote).toEqual(expect.arrayContaining(['main', 'feature/human', 'oxi/t0-104', 'oxi/t1-102']));
    // The injected rate limit and 5xx bursts happened and were absorbed.
    const statuses = gh.requests.map((q) => q.status);
    expect(statuses).toEqual(expect.arrayContaining([403, 502, 503]));
    // The token is nowhere in the database.
    expect(readFileSync(t.adapter.paths.db).includes(Buffer.from(TOKEN))).toBe(false);
  });
});
