import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EffectDeps } from '../../../../actors/effects/deps.js';
import { commitAll, ensureWorktree } from '../../../../actors/git/git.js';
import { GitHubForge } from '../../../../actors/forges/github/github-forge.js';
import { makeOctokit } from '../../../../actors/forges/github/client.js';
import { makePrScan } from '../../../../actors/effects/pr-scan.js';
import { merge } from '../../../../actors/effects/task-effects.js';
import { systemClock } from '../../../../src/clock.js';
import { validateConfig } from '../../../../src/config/validate.js';
import { appendEvent } from '../../../../src/store/ledger.js';
import { openDb } from '../../../../src/store/db.js';
import { ingestItems } from '../../../../src/store/tasks.js';
import { makeRepo, writeFiles } from '../../../helpers/git-repo.js';
import { attachFakeGitHub, OWNER, REPO, TOKEN } from '../../../helpers/github-remote.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Effects over the fake GitHub with a real database: task rows in the given status, each with an open PR. */
async function setup(tasks: Array<{ id: string; status: string }>) {
  const r = makeRepo();
  cleanups.push(r.cleanup);
  const gh = await attachFakeGitHub(r.dir, r.scratch);
  cleanups.push(() => gh.stop());
  const db = openDb(join(r.scratch, 'oxi.db'));
  cleanups.push(() => db.close());
  const client = makeOctokit({ token: TOKEN, baseUrl: gh.url, pacing: false, retryBaseMs: 5 });
  const forge = new GitHubForge({ client, owner: OWNER, repo: REPO, mainClone: r.dir, mainBranch: 'main', remote: 'origin', branchPrefix: 'oxi/', clock: systemClock, pollMs: 10, checksTimeoutMs: 5000 });
  const adapter = validateConfig({ name: 'fx', repo: { path: r.dir, forge: { kind: 'github', owner: OWNER, name: REPO } }, checks: { command: ['true'] } }, { configPath: join(r.dir, 'oxi.config.json') });
  const deleted: string[] = [];
  const deps = { db, clock: systemClock, adapter, forge: Object.assign(forge, { deleteBranch: async (b: string) => void deleted.push(b) }) } as unknown as EffectDeps;
  ingestItems(db, tasks.map((t, seq) => ({ id: t.id, repo: 'fx', tier: 0, title: t.id, description: '', seq })), 0);
  const prs: Record<string, { number: number; head: string }> = {};
  for (const t of tasks) {
    const branch = `oxi/${t.id.toLowerCase()}`;
    const path = join(r.scratch, t.id);
    await ensureWorktree({ mainClone: r.dir, path, branch, base: 'main' });
    writeFiles(path, { [`${t.id}.txt`]: t.id });
    const head = (await commitAll(path, t.id))!;
    const pr = await forge.openPr({ task: t.id, branch, base: 'main', title: t.id, body: '', headSha: head });
    prs[t.id] = { number: pr.number, head };
    db.prepare('UPDATE tasks SET status = ?, pr = ?, branch = ? WHERE id = ?').run(t.status, pr.number, branch, t.id);
  }
  return { gh, db, deps, forge, prs, deleted };
}

describe('prWatcher scan on GitHub', () => {
  it('merged by a human → pr.merged and the janitor; closed → pr.closed; waiting on a human: red CI and change requests go back once per head', async () => {
    const s = await setup([
      { id: 'T1', status: 'checks' },
      { id: 'T2', status: 'reviewing' },
      { id: 'T3', status: 'awaiting_human' },
      { id: 'T4', status: 'awaiting_human' },
      { id: 'T5', status: 'awaiting_human' },
    ]);
    s.gh.ci = ({ branch }) => (branch === 'oxi/t3' ? 'failure' : 'success');
    await s.gh.humanMerge(s.prs.T1.number);
    s.gh.humanClose(s.prs.T2.number);
    s.gh.requestChanges(s.prs.T4.number, 'use a constant');
    const scan = makePrScan();

    // Killed: everything is observed and logged, nothing is deleted, no task is sent back.
    const killed = await scan(s.deps, { readOnly: true });
    expect(killed.events.map((e) => [e.taskId, e.type])).toEqual([['T1', 'pr.merged'], ['T2', 'pr.closed']]);
    expect(killed.ledger?.map((l) => l.kind)).toEqual(['pr_watcher.observed', 'pr_watcher.observed']);
    expect(s.deleted).toEqual([]);

    await s.forge.readChecks(await s.forge.getPr(s.prs.T3.number) as never); // CI starts (pending on first look)
    const live = await scan(s.deps, { readOnly: false });
    expect(live.events.map((e) => [e.taskId, e.type])).toEqual([
      ['T1', 'pr.merged'], ['T2', 'pr.closed'], ['T3', 'pr.checks_failed'], ['T4', 'pr.changes_requested'],
    ]);
    expect(live.events[2]).toMatchObject({ detail: expect.stringMatching(/check test: failure/), ledger: [{ kind: 'ci.issue', payload: { pr: s.prs.T3.number, sha: s.prs.T3.head, failed: ['check test: failure'] } }] });
    expect(live.events[3].detail).toBe('@octocat: use a constant');
    expect(s.deleted).toEqual(['oxi/t1']);
    // Same heads, same verdicts: not sent again.
    const again = await scan(s.deps, { readOnly: false });
    expect(again.events.map((e) => e.type)).toEqual(['pr.merged', 'pr.closed']);
    expect(s.deleted).toEqual(['oxi/t1']);
  });
});

describe('merge effect on GitHub', () => {
  it('records each refusal once with its reason, and merges a PR merged by a human as a no-op success', async () => {
    const s = await setup([{ id: 'T1', status: 'merging' }, { id: 'T2', status: 'merging' }]);
    const input = (id: 'T1' | 'T2', needsHuman: boolean) => ({ taskId: id, attempt: 0, pr: s.prs[id].number, headSha: s.prs[id].head, baseSha: null, title: id, needsHuman });
    const first = await merge(s.deps, input('T1', true));
    expect(first).toMatchObject({ outcome: 'refused', detail: expect.stringMatching(/sensitive paths/), ledger: [{ kind: 'auto_merge.refused' }] });
    for (const note of first.ledger ?? []) appendEvent(s.db, { at: 1, actor: 'task:T1', task: 'T1', kind: note.kind, payload: note.payload });
    expect(await merge(s.deps, input('T1', true))).toMatchObject({ outcome: 'refused', ledger: [] });

    await s.gh.humanMerge(s.prs.T2.number);
    expect(await merge(s.deps, input('T2', false))).toMatchObject({ outcome: 'already_merged', ledger: [{ kind: 'auto_merge.noop_already_merged' }] });
  });

  it('checks green on GitHub (even unknown to this process) → squash merge; a reviewer asking for changes → refused', async () => {
    const s = await setup([{ id: 'T1', status: 'merging' }, { id: 'T2', status: 'merging' }]);
    for (const id of ['T1', 'T2'] as const) await s.forge.runChecks((await s.forge.getPr(s.prs[id].number))!, '');
    s.gh.requestChanges(s.prs.T2.number, 'not like this');
    const fresh = makeOctokit({ token: TOKEN, baseUrl: s.gh.url, pacing: false });
    const restarted = new GitHubForge({ client: fresh, owner: OWNER, repo: REPO, mainClone: '/nowhere', mainBranch: 'main', remote: 'origin', branchPrefix: 'oxi/', clock: systemClock, pollMs: 10, checksTimeoutMs: 5000 });
    Object.assign(restarted, { deleteBranch: async () => {} });
    const deps = { ...s.deps, forge: restarted } as EffectDeps;
    expect(await merge(deps, { taskId: 'T1', attempt: 0, pr: s.prs.T1.number, headSha: s.prs.T1.head, baseSha: null, title: 'T1', needsHuman: false })).toMatchObject({ outcome: 'merged', ledger: [{ kind: 'auto_merge.merged' }] });
    expect(await merge(deps, { taskId: 'T2', attempt: 0, pr: s.prs.T2.number, headSha: s.prs.T2.head, baseSha: null, title: 'T2', needsHuman: false })).toMatchObject({ outcome: 'refused', detail: 'a reviewer requested changes' });
  });
});
