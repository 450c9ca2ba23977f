import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { branchSha, commitAll, ensureWorktree } from '../../../../actors/git/git.js';
import { GitHubForge } from '../../../../actors/forges/github/github-forge.js';
import { makeOctokit, resolveToken } from '../../../../actors/forges/github/client.js';
import { systemClock } from '../../../../src/clock.js';
import { ConfigError, ForgeError } from '../../../../src/errors.js';
import type { FakeGitHub } from '../../../helpers/fake-github.js';
import { makeRepo, writeFiles, type TestRepo } from '../../../helpers/git-repo.js';
import { attachFakeGitHub, OWNER, REPO, TOKEN } from '../../../helpers/github-remote.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Fixture {
  r: TestRepo;
  gh: FakeGitHub;
  forge: GitHubForge;
  warnings: string[];
  branch(branch: string, files: Record<string, string>): Promise<{ path: string; head: string }>;
}

async function fixture(options: { token?: string; checksTimeoutMs?: number } = {}): Promise<Fixture> {
  const r = makeRepo();
  cleanups.push(r.cleanup);
  const gh = await attachFakeGitHub(r.dir, r.scratch);
  cleanups.push(() => gh.stop());
  const warnings: string[] = [];
  const client = makeOctokit({ token: options.token ?? TOKEN, baseUrl: gh.url, pacing: false, retryBaseMs: 5, warn: (m) => warnings.push(m) });
  const forge = new GitHubForge({
    client, owner: OWNER, repo: REPO, mainClone: r.dir, mainBranch: 'main', remote: 'origin', branchPrefix: 'oxi/',
    clock: systemClock, pollMs: 10, checksTimeoutMs: options.checksTimeoutMs ?? 10_000, noChecksGraceMs: 50,
  });
  return {
    r, gh, forge, warnings,
    async branch(branch, files) {
      const path = join(r.scratch, branch.replaceAll('/', '-'));
      await ensureWorktree({ mainClone: r.dir, path, branch, base: 'main' });
      writeFiles(path, files);
      return { path, head: (await commitAll(path, `work on ${branch}`))! };
    },
  };
}

const input = (task: string, branch: string, headSha: string) => ({ task, branch, base: 'main', title: `${task}: title`, body: 'Plan.', headSha });

describe('GitHubForge pull requests', () => {
  it('pushes and opens a PR once; a second openPr adopts it and follows a new head', async () => {
    const f = await fixture();
    const { path, head } = await f.branch('oxi/t1', { 'a.txt': 'a' });
    const first = await f.forge.openPr(input('T1', 'oxi/t1', head));
    expect(first).toMatchObject({ number: 1, adopted: false, state: 'open', task: 'T1', branch: 'oxi/t1', headSha: head });
    expect(f.gh.branchesInRemote()).toContain('oxi/t1');
    writeFiles(path, { 'b.txt': 'b' });
    const newHead = (await commitAll(path, 'more'))!;
    const second = await f.forge.openPr(input('T1', 'oxi/t1', newHead));
    expect(second).toMatchObject({ number: 1, adopted: true, headSha: newHead });
    expect(f.gh.pulls.size).toBe(1);
    expect((await f.forge.getPr(1))?.headSha).toBe(newHead);
    expect(await f.forge.getPr(99)).toBeUndefined();
  });

  it('a create whose answer was lost (5xx after creating) is retried, gets 422 "already exists", and adopts the PR', async () => {
    const f = await fixture();
    const { head } = await f.branch('oxi/t2', { 'a.txt': 'a' });
    let once = true;
    f.gh.onPullCreated = () => {
      if (once) {
        once = false;
        throw new Error('connection dropped after the PR was created');
      }
    };
    const pr = await f.forge.openPr(input('T2', 'oxi/t2', head));
    expect(pr).toMatchObject({ number: 1, adopted: true, task: 'T2' });
    expect(f.gh.pulls.size).toBe(1);
    expect(f.gh.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/pulls')).map((q) => q.status)).toEqual([500, 422]);
  });

  it('lists open engine PRs with their files across Link-header pages, and only the engine\'s', async () => {
    const f = await fixture();
    f.gh.maxPerPage = 1;
    for (const n of [1, 2, 3]) {
      const { head } = await f.branch(`oxi/t${n}`, { [`f${n}.txt`]: 'x', 'shared.txt': `${n}` });
      await f.forge.openPr(input(`T${n}`, `oxi/t${n}`, head));
    }
    const other = await f.branch('human/feature', { 'h.txt': 'h' });
    await f.forge.openPr(input('H', 'human/feature', other.head));
    f.gh.humanClose(2);
    const open = await f.forge.listOpenPrs();
    expect(open.map((p) => [p.task, p.files.sort()])).toEqual([
      ['T3', ['f3.txt', 'shared.txt']],
      ['T1', ['f1.txt', 'shared.txt']],
    ]);
    expect(f.gh.requests.some((q) => q.path.endsWith('/files'))).toBe(true);
  });

  it('merge: mergeable null is asked again, a stale sha is head_moved (409), then squash-merges; merged again is already_merged', async () => {
    const f = await fixture();
    const { path, head } = await f.branch('oxi/t4', { 'a.txt': 'a' });
    const pr = await f.forge.openPr(input('T4', 'oxi/t4', head));
    expect((await f.forge.getPr(pr.number))?.mergeable).toBeNull();
    expect((await f.forge.getPr(pr.number))?.mergeable).toBe(true);
    writeFiles(path, { 'b.txt': 'b' });
    const moved = (await commitAll(path, 'moved'))!;
    await f.forge.openPr(input('T4', 'oxi/t4', moved));
    expect(await f.forge.merge(pr, head, 'T4: title')).toMatchObject({ outcome: 'head_moved' });
    const merged = await f.forge.merge(pr, moved, 'T4: title\n\nbody');
    expect(merged.outcome).toBe('merged');
    expect(f.gh.git(['rev-parse', 'refs/heads/main'])).toBe(merged.mergeSha);
    expect(await f.forge.merge(pr, moved, 'T4: title')).toMatchObject({ outcome: 'already_merged', mergeSha: merged.mergeSha });
    // The raw API answers 405 on a re-merge.
    const raw = makeOctokit({ token: TOKEN, baseUrl: f.gh.url, pacing: false });
    await expect(raw.rest.pulls.merge({ owner: OWNER, repo: REPO, pull_number: pr.number, sha: moved })).rejects.toMatchObject({ status: 405 });
    // syncBase fast-forwards the main clone's base to what GitHub merged.
    await f.forge.syncBase();
    expect(await branchSha(f.r.dir, 'main')).toBe(merged.mergeSha);
  });

  it('merge reports a conflict (405, dirty) and a branch-protection refusal as blocked, never a crash', async () => {
    const f = await fixture();
    const a = await f.branch('oxi/ta', { 'same.txt': 'A\n' });
    const b = await f.branch('oxi/tb', { 'same.txt': 'B\n' });
    const pa = await f.forge.openPr(input('TA', 'oxi/ta', a.head));
    const pb = await f.forge.openPr(input('TB', 'oxi/tb', b.head));
    expect((await f.forge.merge(pa, a.head, 'TA')).outcome).toBe('merged');
    expect(await f.forge.merge(pb, b.head, 'TB')).toMatchObject({ outcome: 'conflict' });
    const c = await f.branch('oxi/tc', { 'c.txt': 'c' });
    const pc = await f.forge.openPr(input('TC', 'oxi/tc', c.head));
    f.gh.pulls.get(pc.number)!.blocked = true;
    expect(await f.forge.merge(pc, c.head, 'TC')).toMatchObject({ outcome: 'blocked', detail: expect.stringMatching(/approving review/) });
  });
});

describe('GitHubForge checks', () => {
  it('waits while CI is pending, then reads both the combined status and the check runs', async () => {
    const f = await fixture();
    const outcomes: Record<string, 'success' | 'failure' | 'status_failure'> = { 'oxi/ok': 'success', 'oxi/run': 'failure', 'oxi/status': 'status_failure' };
    f.gh.ci = ({ branch }) => outcomes[branch];
    const results: Record<string, string> = {};
    for (const branch of Object.keys(outcomes)) {
      const { head } = await f.branch(branch, { [`${branch}.txt`]: 'x' });
      const pr = await f.forge.openPr(input(branch, branch, head));
      expect((await f.forge.readChecks(pr)).state).toBe('pending');
      const r = await f.forge.runChecks(pr, '/nowhere');
      expect(r.sha).toBe(head);
      results[branch] = `${r.state}: ${r.log.split('\n').filter((l) => /fail/.test(l)).join('; ')}`;
      expect((await f.forge.getPr(pr.number))?.checks).toBe(r.state);
    }
    expect(results).toEqual({
      'oxi/ok': 'success: ',
      'oxi/run': 'failure: check test: failure',
      'oxi/status': 'failure: status ci/legacy: failure — legacy CI failure',
    });
  });

  it('CI that never finishes fails the head after the checks timeout', async () => {
    const f = await fixture({ checksTimeoutMs: 100 });
    f.gh.ci = () => 'pending';
    const { head } = await f.branch('oxi/slow', { 's.txt': 's' });
    const pr = await f.forge.openPr(input('S', 'oxi/slow', head));
    const r = await f.forge.runChecks(pr, '/nowhere');
    expect(r).toMatchObject({ state: 'failure', log: expect.stringMatching(/did not finish within 100 ms/) });
  });
});

describe('GitHubForge auto-merge, comments, reviews, janitor', () => {
  it('arms auto-merge when there is something to wait for; already armed is a no-op; clean status means merge directly', async () => {
    const f = await fixture();
    const a = await f.branch('oxi/am', { 'am.txt': 'x' });
    const pa = await f.forge.openPr(input('AM', 'oxi/am', a.head));
    await f.forge.runChecks(pa, '/nowhere');
    f.gh.pulls.get(pa.number)!.blocked = true;
    expect(await f.forge.armAutoMerge(pa)).toEqual({ outcome: 'armed' });
    expect(await f.forge.armAutoMerge(pa)).toEqual({ outcome: 'already_armed' });
    expect((await f.forge.getPr(pa.number))?.autoMerge).toBe(true);
    await f.gh.approve(pa.number);
    expect((await f.forge.getPr(pa.number))?.state).toBe('merged');
    expect(await f.forge.armAutoMerge(pa)).toEqual({ outcome: 'merged' });

    const b = await f.branch('oxi/clean', { 'clean.txt': 'x' });
    const pb = await f.forge.openPr(input('CL', 'oxi/clean', b.head));
    await f.forge.runChecks(pb, '/nowhere');
    expect(await f.forge.armAutoMerge(pb)).toMatchObject({ outcome: 'clean', detail: expect.stringMatching(/clean status/) });
    f.gh.autoMergeAllowed = false;
    f.gh.pulls.get(pb.number)!.blocked = true;
    expect(await f.forge.armAutoMerge(pb)).toMatchObject({ outcome: 'unavailable', detail: expect.stringMatching(/not allowed/) });
  });

  it('comments once per verdict, reads reviews requesting changes on the current head', async () => {
    const f = await fixture();
    const { head } = await f.branch('oxi/c', { 'c.txt': 'c' });
    const pr = await f.forge.openPr(input('C', 'oxi/c', head));
    await f.forge.comment(pr.number, 'verdict: approve');
    await f.forge.comment(pr.number, 'verdict: approve');
    expect(f.gh.pulls.get(pr.number)!.comments.map((c) => c.body)).toEqual(['verdict: approve']);
    expect(await f.forge.changesRequested(pr)).toBeUndefined();
    f.gh.requestChanges(pr.number, 'rename the file');
    expect(await f.forge.changesRequested(pr)).toBe('@octocat: rename the file');
  });

  it('deletes only the engine\'s branches; a branch already gone is fine (422)', async () => {
    const f = await fixture();
    const { head } = await f.branch('oxi/gone', { 'g.txt': 'g' });
    await f.forge.openPr(input('G', 'oxi/gone', head));
    await f.forge.deleteBranch('oxi/gone');
    await f.forge.deleteBranch('oxi/gone');
    expect(f.gh.branchesInRemote()).not.toContain('oxi/gone');
    expect(f.gh.requests.filter((q) => q.method === 'DELETE').map((q) => q.status)).toEqual([204, 422]);
    await expect(f.forge.deleteBranch('main')).rejects.toThrow(ForgeError);
    await expect(f.forge.deleteBranch('human/feature')).rejects.toThrow(/oxi does not own/);
  });
});

describe('GitHub client robustness', () => {
  it('retries a secondary rate limit after retry-after and a 5xx burst with backoff, then succeeds', async () => {
    const f = await fixture();
    f.gh.secondaryRateLimit(/\/pulls$/);
    f.gh.fail({ method: 'GET', path: /\/pulls$/, status: 502, times: 2 });
    expect(await f.forge.listOpenPrs()).toEqual([]);
    expect(f.gh.requests.map((q) => q.status)).toEqual([403, 502, 502, 200]);
    expect(f.warnings.join('\n')).toMatch(/secondary rate limit/);
    expect(f.warnings.join('\n')).not.toContain(TOKEN);
  });

  it('waits out a secondary-limit 429 for its retry-after (throttling owns it, the retry plugin does not pre-empt)', async () => {
    const f = await fixture();
    f.gh.fail({ method: 'GET', path: /\/pulls$/, status: 429, headers: { 'retry-after': '2' }, message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' });
    expect(await f.forge.listOpenPrs()).toEqual([]);
    const [limited, ok] = f.gh.requests;
    expect([limited!.status, ok!.status]).toEqual([429, 200]);
    // The server asked for 2 s; the retry plugin's own backoff would have come back after ~1 s.
    expect(ok!.at - limited!.at).toBeGreaterThanOrEqual(2000);
    expect(f.warnings.join('\n')).toMatch(/secondary rate limit on GET .*retrying after 2 s/);
  });

  it('waits out a primary-limit 429 until x-ratelimit-reset', async () => {
    const f = await fixture();
    const reset = Math.ceil(Date.now() / 1000) + 2;
    f.gh.fail({ method: 'GET', path: /\/pulls$/, status: 429, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, message: 'API rate limit exceeded' });
    expect(await f.forge.listOpenPrs()).toEqual([]);
    const [limited, ok] = f.gh.requests;
    expect([limited!.status, ok!.status]).toEqual([429, 200]);
    // Not before the reset second has passed.
    expect(ok!.at).toBeGreaterThanOrEqual(reset * 1000);
    expect(f.warnings.join('\n')).toMatch(/GitHub rate limit on GET/);
  });

  it('gives up after a bounded number of retries with a ForgeError that says how to fix it', async () => {
    const f = await fixture();
    f.gh.fail({ path: /\/pulls$/, status: 503, times: 10 });
    const error = await f.forge.listOpenPrs().catch((e) => e);
    expect(error).toBeInstanceOf(ForgeError);
    expect(f.gh.requests).toHaveLength(4);
    const bad = await fixture({ token: 'wrong' });
    const denied = await bad.forge.listOpenPrs().catch((e) => e);
    expect(denied).toMatchObject({ message: expect.stringMatching(/answered 401/), fix: expect.stringMatching(/token/) });
    expect(denied.message).not.toContain('wrong');
  });

  it('takes the token from the adapter\'s variable, then GH_TOKEN, then GITHUB_TOKEN', () => {
    expect(resolveToken('MY_TOKEN', { MY_TOKEN: 'a', GH_TOKEN: 'b', GITHUB_TOKEN: 'c' })).toBe('a');
    expect(resolveToken('MY_TOKEN', { GH_TOKEN: 'b', GITHUB_TOKEN: 'c' })).toBe('b');
    expect(resolveToken('MY_TOKEN', { GITHUB_TOKEN: 'c' })).toBe('c');
    expect(() => resolveToken('MY_TOKEN', {})).toThrow(ConfigError);
  });
});
