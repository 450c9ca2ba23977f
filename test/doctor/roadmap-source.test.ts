/** `oxi doctor`'s roadmap check for each source: the markdown file, and GitHub Issues on the fake GitHub. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configCheck } from '../../src/doctor/project.js';
import { roadmapSourceChecks } from '../../src/doctor/roadmap-source.js';
import { doctorContext } from '../../src/doctor/run.js';
import { makeRepo } from '../helpers/git-repo.js';
import { attachFakeGitHub, OWNER, REPO, TOKEN } from '../helpers/github-remote.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function check(config: Record<string, unknown>, token: string | undefined = TOKEN) {
  const r = makeRepo();
  cleanups.push(r.cleanup);
  writeFileSync(join(r.dir, 'ROADMAP.md'), '# r\n\n## Tier 0\n\n**T0-1 · One**\n_one._\n');
  const gh = await attachFakeGitHub(r.dir, r.scratch);
  cleanups.push(() => gh.stop());
  const configPath = join(r.scratch, 'oxi.config.json');
  writeFileSync(configPath, JSON.stringify({ name: 'widgets', repo: { path: r.dir, forge: { kind: 'github', owner: OWNER, name: REPO, apiUrl: gh.url } }, roadmap: join(r.dir, 'ROADMAP.md'), paths: { stateDir: join(r.scratch, 'state') }, ...config }));
  const ctx = doctorContext({ cwd: r.dir, configPath, env: { GITHUB_TOKEN: token } });
  expect((await configCheck.check(ctx))[0].status).toBe('ok');
  return { gh, dir: r.dir, run: () => roadmapSourceChecks.check(ctx) };
}

describe('oxi doctor: the roadmap source', () => {
  it('markdown: the file parses, or its absence is a failure with the fix', async () => {
    // The config sits outside the clone: a relative roadmap path is resolved against it, where there is none.
    const missing = await check({ roadmap: { source: 'markdown', path: 'ROADMAP.md' } });
    expect(await missing.run()).toEqual([expect.objectContaining({ id: 'roadmap', status: 'fail', detail: expect.stringContaining('could not read it (ENOENT)') })]);
    const { run, dir } = await check({});
    expect(await run()).toEqual([{ id: 'roadmap', status: 'ok', detail: `${join(dir, 'ROADMAP.md')}: 1 item(s)` }]);
  });

  it('GitHub Issues: lists the labelled issues with the engine\'s token, and says which include label is missing', async () => {
    const { gh, run } = await check({ roadmap: { source: 'github-issues', labels: { include: ['oxi', 'ready'] } } });
    gh.issues.open('One', '', ['oxi', 'ready', 'tier-0']);
    gh.issues.open('Two', '', ['oxi', 'ready']);
    gh.issues.open('Other', '', ['oxi']);
    let results = await run();
    expect(results).toEqual([{ id: 'roadmap:github-issues', status: 'ok', detail: `${OWNER}/${REPO}: 2 open issue(s) labelled oxi,ready, 1 without a tier label` }]);
    const bare = await check({ roadmap: { source: 'github-issues', labels: { include: ['oxi'] } } });
    results = await bare.run();
    expect(results.map((r) => [r.id, r.status])).toEqual([['roadmap:github-issues', 'ok'], ['roadmap:label:oxi', 'warn']]);
    expect(results[1].fix).toContain('gh label create oxi');
  });

  it('GitHub Issues: a rejected token fails with its fix', async () => {
    const { run } = await check({ roadmap: { source: 'github-issues' } }, 'not-the-token');
    const [result] = await run();
    expect(result).toMatchObject({ id: 'roadmap:github-issues', status: 'fail', detail: expect.stringContaining('answered 401'), fix: expect.stringContaining('new token') });
  });
});
