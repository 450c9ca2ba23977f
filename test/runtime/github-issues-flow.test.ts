import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRoadmap } from '../../src/roadmap/parse.js';
import { engineProject } from '../helpers/engine-project.js';
import { waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('GitHub Issues as the roadmap, end to end with the engine', () => {
  it('turns labelled issues into tasks, links and closes them, follows a relabel, and abandons the ones a human closes', { timeout: 360_000 }, async () => {
    // One live task at a time, so the order is the test's; GitHub's own "Closes #n" is off to see oxi close the issue.
    const t = await engineProject({
      tasks: 3, forge: 'github', cleanups, issues: { labels: { include: ['oxi'] } }, github: { closeIssuesOnMerge: false },
      config: (c) => (c.engine.maxLiveTasks = 1),
    });
    const gh = t.gh!;
    const items = parseRoadmap(readFileSync(join(t.p.dir, 'ROADMAP.md'), 'utf8')).items;
    const issue: Record<string, number> = {};
    for (const it of items) issue[it.id] = gh.issues.open(`${it.id} · ${it.title}`, it.description, ['oxi', `tier-${it.tier}`]).number;
    gh.issues.open('Rewrite it in Rust', 'Not labelled for oxi.', ['idea']);
    // T2-103's CI never finishes: it stays in flight until a human closes its issue.
    gh.ci = ({ branch }) => (branch === 'oxi/t2-103' ? 'pending' : 'success');

    const done = t.run();
    // While T0-101 holds the only live slot, T2-103 is relabelled to tier 0: it goes before T1-102.
    await waitFor('T0-101 started', () => t.tasks().find((r) => r.id === 'T0-101' && r.status !== 'queued'), 60_000);
    gh.issues.setLabels(issue['T2-103'], ['oxi', 'tier-0']);
    await waitFor('T2-103 has its PR', () => [...gh.pulls.values()].find((p) => p.head === 'oxi/t2-103'), 240_000).catch((e) => {
      throw new Error(`${(e as Error).message}; tasks: ${JSON.stringify(t.tasks())}`);
    });
    expect(t.tasks().find((r) => r.id === 'T1-102')!.status).toBe('queued');
    gh.issues.close(issue['T1-102']);
    await waitFor('T1-102 abandoned while queued', () => t.tasks().find((r) => r.id === 'T1-102' && r.status === 'abandoned'), 30_000);
    gh.issues.close(issue['T2-103'], 'octocat', 'not_planned');
    const exit = await done;
    expect(exit.code, exit.reason).toBe(0);

    const byId = Object.fromEntries(t.tasks().map((r) => [r.id, r]));
    expect(Object.keys(byId).sort()).toEqual(['T0-101', 'T1-102', 'T2-103']);
    expect(byId['T0-101'].status).toBe('merged');
    expect(byId['T1-102']).toMatchObject({ status: 'abandoned', reason: `issue #${issue['T1-102']} closed at the roadmap source` });
    expect(byId['T2-103']).toMatchObject({ status: 'abandoned', reason: `issue #${issue['T2-103']} closed as not planned at the roadmap source` });
    expect(t.events('roadmap.tier_changed').map((e) => JSON.parse(e.payload))).toEqual([{ task: 'T2-103', from: 2, to: 0 }]);
    expect(t.db.prepare(`SELECT tier FROM tasks WHERE id='T2-103'`).get()).toEqual({ tier: 0 });

    const pr = [...gh.pulls.values()].find((p) => p.head === 'oxi/t0-101')!;
    expect(pr.body).toContain(`Closes #${issue['T0-101']}`);
    const merged = gh.issues.issues.get(issue['T0-101'])!;
    // oxi linked the PR on the issue once, and closed the issue when the PR merged.
    expect(merged.comments.filter((c) => c.body.includes(`#${pr.number}`))).toHaveLength(1);
    expect(merged).toMatchObject({ state: 'closed', state_reason: 'completed', closedBy: 'oxi-bot' });
    expect(t.events('roadmap.item_closed').map((e) => JSON.parse(e.payload).task)).toEqual(['T0-101']);
    expect(t.events('roadmap.closed').map((e) => JSON.parse(e.payload).task).sort()).toEqual(['T1-102', 'T2-103']);
    // The PR of the abandoned in-flight task is linked on its issue too; the unlabelled issue never became a task.
    expect(gh.issues.issues.get(issue['T2-103'])!.comments).toHaveLength(1);
    // Polling an unchanged repository was answered 304.
    expect(gh.requests.filter((r) => r.path.endsWith('/issues') && r.status === 304).length).toBeGreaterThan(0);
  });
});
