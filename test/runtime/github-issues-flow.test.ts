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
  it('turns labelled issues into tasks, links and closes them, abandons the ones a human closes, and follows a relabel', { timeout: 180_000 }, async () => {
    // One live task at a time, so the order of events is the test's; GitHub's own "Closes #n" is off to see oxi close the issues.
    const t = await engineProject({
      tasks: 4, forge: 'github', cleanups, issues: { labels: { include: ['oxi'] } }, github: { closeIssuesOnMerge: false },
      config: (c) => (c.engine.maxLiveTasks = 1),
    });
    const gh = t.gh!;
    const items = parseRoadmap(readFileSync(join(t.p.dir, 'ROADMAP.md'), 'utf8')).items;
    const issue: Record<string, number> = {};
    for (const it of items) issue[it.id] = gh.issues.open(`${it.id} · ${it.title}`, it.description, ['oxi', `tier-${it.tier}`]).number;
    gh.issues.open('Rewrite it in Rust', 'Not labelled for oxi.', ['idea']);
    // T0-104's CI never finishes: it stays in flight until a human closes its issue.
    gh.ci = ({ branch }) => (branch === 'oxi/t0-104' ? 'pending' : 'success');

    const done = t.run();
    await waitFor('T0-104 has its PR', () => [...gh.pulls.values()].find((p) => p.head === 'oxi/t0-104'), 90_000);
    // While T0-104 holds the only live slot: T2-103 is relabelled to tier 0 and T1-102's issue is closed.
    gh.issues.setLabels(issue['T2-103'], ['oxi', 'tier-0']);
    gh.issues.close(issue['T1-102']);
    await waitFor('T2-103 moved to tier 0', () => t.events('roadmap.tier_changed').length > 0, 30_000);
    await waitFor('T1-102 abandoned while queued', () => t.tasks().find((r) => r.id === 'T1-102' && r.status === 'abandoned'), 30_000);
    gh.issues.close(issue['T0-104'], 'octocat', 'not_planned');
    const exit = await done;
    expect(exit.code, exit.reason).toBe(0);

    const byId = Object.fromEntries(t.tasks().map((r) => [r.id, r]));
    expect(Object.keys(byId).sort()).toEqual(['T0-101', 'T0-104', 'T1-102', 'T2-103']);
    expect(byId['T0-101'].status).toBe('merged');
    expect(byId['T2-103'].status).toBe('merged');
    expect(byId['T1-102']).toMatchObject({ status: 'abandoned', reason: `issue #${issue['T1-102']} closed at the roadmap source` });
    expect(byId['T0-104']).toMatchObject({ status: 'abandoned', reason: `issue #${issue['T0-104']} closed as not planned at the roadmap source` });
    expect(JSON.parse(t.events('roadmap.tier_changed')[0].payload)).toEqual({ task: 'T2-103', from: 2, to: 0 });
    expect(t.db.prepare(`SELECT tier FROM tasks WHERE id='T2-103'`).get()).toEqual({ tier: 0 });

    for (const id of ['T0-101', 'T2-103']) {
      const pr = [...gh.pulls.values()].find((p) => p.head === `oxi/${id.toLowerCase()}`)!;
      expect(pr.body).toContain(`Closes #${issue[id]}`);
      const i = gh.issues.issues.get(issue[id])!;
      // oxi linked the PR on the issue once, and closed the issue when the PR merged.
      expect(i.comments.filter((c) => c.body.includes(`#${pr.number}`))).toHaveLength(1);
      expect(i).toMatchObject({ state: 'closed', state_reason: 'completed', closedBy: 'oxi-bot' });
    }
    expect(t.events('roadmap.item_closed').map((e) => JSON.parse(e.payload).task).sort()).toEqual(['T0-101', 'T2-103']);
    expect(t.events('roadmap.closed').map((e) => JSON.parse(e.payload).task).sort()).toEqual(['T0-104', 'T1-102']);
    // The unlabelled issue never became a task; polling an unchanged repository was answered 304.
    expect(gh.requests.filter((r) => r.path.endsWith('/issues') && r.status === 304).length).toBeGreaterThan(0);
  });
});
