import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { gitSync } from '../helpers/git-repo.js';
import { attachFakeGitHub, OWNER, REPO, TOKEN } from '../helpers/github-remote.js';
import { query, sampleProject, spawnOxi, waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TOKEN_ENV = 'OXI_TEST_GITHUB_TOKEN';

describe('GitHub forge across a crash', () => {
  it('SIGKILL between "PR created" and "PR recorded": after restart exactly one PR exists for the task, adopted', { timeout: 180_000 }, async () => {
    const p = sampleProject({ tasks: 1, config: (c) => Object.assign(c.engine, { prWatchIntervalMs: 200, seedIntervalMs: 300 }) });
    cleanups.push(p.cleanup);
    const gh = await attachFakeGitHub(p.dir, `${p.dir}/..`);
    cleanups.push(() => gh.stop());
    // The daemon builds its forge from the adapter: the real buildPorts path, token from the named variable.
    const config = JSON.parse(readFileSync(p.configPath, 'utf8'));
    config.repo.forge = { kind: 'github', owner: OWNER, name: REPO, apiUrl: gh.url, tokenEnv: TOKEN_ENV };
    writeFileSync(p.configPath, JSON.stringify(config, null, 2));
    gitSync(p.dir, ['commit', '-qam', 'use the GitHub forge']);
    gitSync(p.dir, ['push', '-q', 'origin', 'main']);
    process.env[TOKEN_ENV] = TOKEN;
    cleanups.push(() => delete process.env[TOKEN_ENV]);

    const first = spawnOxi(['--config', p.configPath, 'run']);
    cleanups.push(() => first.kill('SIGKILL'));
    let created = 0;
    gh.onPullCreated = () => {
      created++;
      if (created === 1) first.kill('SIGKILL'); // dies before it hears GitHub's answer
    };
    await first.exited;
    expect(gh.pulls.size).toBe(1);
    expect(query<{ status: string; pr: number | null }>(p.db, 'SELECT status, pr FROM tasks')).toEqual([{ status: 'pr_open', pr: null }]);

    const second = spawnOxi(['--config', p.configPath, 'run']);
    cleanups.push(() => second.kill('SIGKILL'));
    await waitFor('the task merged', () => query<{ status: string }>(p.db, 'SELECT status FROM tasks')[0]?.status === 'merged', 120_000);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    expect(created).toBe(1);
    expect([...gh.pulls.values()].map((pr) => [pr.number, pr.merged])).toEqual([[1, true]]);
    expect(query<{ pr: number }>(p.db, 'SELECT pr FROM tasks')).toEqual([{ pr: 1 }]);
    expect(query(p.db, `SELECT kind FROM event WHERE kind IN ('pr.adopted', 'pr.opened')`)).toEqual([{ kind: 'pr.adopted' }]);
    expect(gh.git(['show', 'main:src/double.js'])).toContain('double');
    // The token never reached the database or the daemon's output.
    expect(readFileSync(p.db).includes(Buffer.from(TOKEN))).toBe(false);
    expect(first.output() + second.output()).not.toContain(TOKEN);
  });
});
