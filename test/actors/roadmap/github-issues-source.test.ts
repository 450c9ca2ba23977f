import { afterEach, describe, expect, it } from 'vitest';
import { makeOctokit } from '../../../actors/forges/github/client.js';
import { GithubIssuesSource } from '../../../actors/roadmap/github-issues.js';
import { githubIssuesRoadmapSchema } from '../../../src/config/roadmap-schema.js';
import { FakeGitHub } from '../../helpers/fake-github.js';
import { gitSync } from '../../helpers/git-repo.js';
import { OWNER, REPO, TOKEN } from '../../helpers/github-remote.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(config: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-issues-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const bare = join(dir, 'github.git');
  gitSync(dir, ['init', '-q', '--bare', '-b', 'main', bare]);
  const gh = await new FakeGitHub({ owner: OWNER, repo: REPO, bare, token: TOKEN }).start();
  cleanups.push(() => gh.stop());
  const client = makeOctokit({ token: TOKEN, baseUrl: gh.url, pacing: false, retryBaseMs: 20 });
  const source = new GithubIssuesSource({ client, owner: OWNER, repo: REPO, config: githubIssuesRoadmapSchema.parse({ source: 'github-issues', ...config }) });
  return { gh, source };
}

describe('GitHub Issues roadmap source', () => {
  it('maps labelled open issues to items: id from the number or a title prefix, tier from labels, pull requests and unlabelled issues left out', async () => {
    const { gh, source } = await setup();
    const a = gh.issues.open('Make the widget blue', 'All widgets are blue.', ['oxi', 'tier-1']);
    gh.issues.open('T0-104 · Faster startup', 'Start in under a second.', ['oxi', 'tier-0', 'tier-2']);
    gh.issues.open('Not for the robot', 'A human does this.', ['bug']);
    gh.issues.open('T2-9: no tier label', '', ['oxi']);
    const read = await source.read([]);
    expect(read.items).toEqual([
      { id: `GH-${a.number}`, tier: 1, title: 'Make the widget blue', description: 'All widgets are blue.' },
      { id: 'T0-104', tier: 0, title: 'Faster startup', description: 'Start in under a second.' },
      { id: 'T2-9', tier: 2, title: 'no tier label', description: '' },
    ]);
    expect(read.closed).toEqual([]);
    expect(await source.prBody(`GH-${a.number}`)).toBe(`Closes #${a.number}`);
    expect(await source.prBody('T0-104')).toBe('Closes #2');
  });

  it('polls with If-None-Match: an idle repository answers 304 and spends no rate limit; a relabel or a close is seen at once', async () => {
    const { gh, source } = await setup({ idFormat: 'ISSUE-{number}' });
    const a = gh.issues.open('First', 'one', ['oxi', 'tier-2']);
    const first = await source.read([]);
    expect(first.unchanged).toBe(false);
    const used = gh.rateLimitUsed;
    for (let i = 0; i < 5; i++) expect((await source.read([`ISSUE-${a.number}`])).unchanged).toBe(true);
    expect(gh.rateLimitUsed).toBe(used);
    expect(gh.requests.slice(-5).map((r) => r.status)).toEqual([304, 304, 304, 304, 304]);

    gh.issues.setLabels(a.number, ['oxi', 'tier-0']);
    const relabelled = await source.read([`ISSUE-${a.number}`]);
    expect(relabelled.unchanged).toBe(false);
    expect(relabelled.items[0]).toMatchObject({ id: `ISSUE-${a.number}`, tier: 0 });

    gh.issues.close(a.number, 'octocat', 'not_planned');
    const closed = await source.read([`ISSUE-${a.number}`]);
    expect(closed.items).toEqual([]);
    expect(closed.closed).toEqual([{ id: `ISSUE-${a.number}`, reason: `issue #${a.number} closed as not planned` }]);
    // Both lists are conditional from then on: still nothing spent while idle.
    const after = gh.rateLimitUsed;
    expect((await source.read([`ISSUE-${a.number}`])).unchanged).toBe(true);
    expect(gh.rateLimitUsed).toBe(after);
  });

  it('adds a labelled issue, links a PR once however often it is told, and closes the issue after a merge', async () => {
    const { gh, source } = await setup();
    const added = await source.add({ tier: 2, title: 'Document the API', description: 'Every endpoint.' });
    const issue = [...gh.issues.issues.values()][0];
    expect(added).toEqual({ id: `GH-${issue.number}`, where: `https://github.test/${OWNER}/${REPO}/issues/${issue.number}` });
    expect(issue).toMatchObject({ title: 'Document the API', body: 'Every endpoint.', labels: ['oxi', 'tier-2'] });
    await expect(source.add({ tier: 7, title: 'x', description: '' })).rejects.toThrow(/No label gives tier 7/);

    expect(await source.prOpened(added.id, { number: 42, url: 'https://github.test/pr/42' })).toBe(true);
    expect(await source.prOpened(added.id, { number: 42 })).toBe(false);
    expect(issue.comments).toHaveLength(1);
    expect(issue.comments[0].body).toContain('#42');

    expect(await source.merged(added.id, 42)).toBe(true);
    expect(issue).toMatchObject({ state: 'closed', state_reason: 'completed' });
    expect(await source.merged(added.id, 42)).toBe(false);
  });
});
