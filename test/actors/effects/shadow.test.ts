/**
 * Shadow runs (agents.shadow) on real worker sessions: the fake `claude` (test/fixtures/bin/fake-claude.mjs) as both
 * the worker's and the shadow's route, real git workspaces, the real sandbox and the repository's checks command.
 * The scenario each route plays is its model (`scenario-<name>`), so one prompt serves both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent as runWorker } from '../../../actors/effects/run-agent.js';
import { interruptShadows, recordingShadow, shadowSampled } from '../../../actors/effects/shadow.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import { listEvents } from '../../../src/store/ledger.js';
import { getShadowPairFor, recentShadowPairs, shadowReport, type ShadowPairRow } from '../../../src/store/shadow.js';
import { agentFixture, FAKE_CLAUDE, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { gitSync, makeRepo, type TestRepo } from '../../helpers/git-repo.js';
import { isAlive, waitFor } from '../../helpers/project.js';

/** The worker step as the engine provides it (actors/index.ts): the real side of the pair recorded at its end. */
const runAgent = recordingShadow(runWorker);

let repo: TestRepo;
let fx: AgentFixture;

/** The worker plays `worker`, the shadow `shadow` (fake-claude scenarios); the checks pass only where fake.txt exists. */
function setup(worker: string, shadow: string | undefined, extra: { sample?: number; budget?: Record<string, number>; sandbox?: Record<string, unknown> } = {}) {
  repo = makeRepo();
  fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
    checks: { command: [process.execPath, '-e', "process.exit(require('node:fs').existsSync('fake.txt') ? 0 : 1)"], timeoutMs: 60_000 },
    ...(extra.budget ? { budget: extra.budget } : {}),
    agents: {
      worker: { backend: 'claude', model: `scenario-${worker}` },
      ...(shadow ? { shadow: { backend: 'claude', model: `scenario-${shadow}`, ...(extra.sample === undefined ? {} : { sample: extra.sample }) } } : {}),
      claude: { command: [process.execPath, FAKE_CLAUDE] },
      env: { set: { FAKE_CLAUDE_PIDS: join(repo.scratch, 'pids') } },
      timeouts: { wallMinutes: 1, stallMinutes: 1 },
      sandbox: { writable: [repo.scratch], ...extra.sandbox },
      network: 'open',
    },
  });
  seedTask(fx.db, 'T1');
  return fx;
}

afterEach(() => {
  fx?.close();
  repo?.cleanup();
});

async function workspace(): Promise<string> {
  const path = join(repo.scratch, 'ws');
  await ensureWorkspace({ mainClone: repo.dir, path, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  return path;
}

const workInput = (cwd: string, attempt = 0) => ({
  taskId: 'T1', attempt, host: 'local', worktree: cwd, branch: 'oxi/t1',
  plan: { files_touched: ['fake.txt'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 'Task T1', description: 'add fake.txt',
});

const settled = (attempt = 0) =>
  waitFor('the shadow pair to be recorded', () => {
    const row = getShadowPairFor(fx.db, { task: 'T1', attempt, fix: 0 });
    return row && row.shadow_status !== 'running' && row.real_outcome !== null ? row : undefined;
  }, 60_000, 50);

describe('shadow runs beside a worker session', () => {
  it('same files: a pair with shape_match true, both costs, the checks passed in the sibling workspace, nothing shipped', async () => {
    setup('happy', 'happy');
    const cwd = await workspace();
    const mainBefore = gitSync(repo.dir, ['for-each-ref', '--format=%(refname) %(objectname)']);
    const out = await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    expect(out).toMatchObject({ outcome: 'ok', costUsd: 0.05, backend: 'claude' });
    const row: ShadowPairRow = await settled();
    expect(row).toMatchObject({
      real_backend: 'claude', real_model: 'scenario-happy', real_outcome: 'ok', real_files: '["fake.txt"]', real_cost_usd: 0.05,
      shadow_backend: 'claude', shadow_model: 'scenario-happy', shadow_status: 'done', shadow_outcome: 'ok', shadow_files: '["fake.txt"]', shadow_cost_usd: 0.05,
      shadow_checks: 'success', shadow_checks_reason: null, shape_match: 1, start_sha: gitSync(repo.dir, ['rev-parse', 'main']).trim(),
    });
    // A sibling workspace of its own, its own commit; the main clone gained no ref and the real workspace no shadow commit.
    expect(row.workspace).not.toBe(cwd);
    expect(gitSync(row.workspace, ['log', '-1', '--format=%s']).trim()).toBe('fake claude change');
    expect(gitSync(repo.dir, ['for-each-ref', '--format=%(refname) %(objectname)'])).toBe(mainBefore);
    expect(gitSync(cwd, ['rev-list', '--count', 'HEAD', '^main']).trim()).toBe('1');
    // Its spend is a ledger spend row like any agent's (counted against the daily caps), never the task's own cost.
    const spends = listEvents(fx.db, { task: 'T1' }).filter((e) => e.kind === 'spend').map((e) => JSON.parse(e.payload));
    expect(spends).toContainEqual({ usd: 0.05, role: 'shadow', task: 'T1', pair: expect.any(Number) });
    const report = shadowReport(fx.db);
    expect(report).toMatchObject({ compared: 1, matched: 1, agreementRate: 1, costDeltaUsd: 0 });
    expect(report.pairs[0]).toMatchObject({ shape_match: true, real: { files: ['fake.txt'] }, shadow: { files: ['fake.txt'], checks: 'success' } });
  });

  it('different files: shape_match false, and the shadow tree fails the checks', async () => {
    setup('happy', 'stderr-garbage');
    const cwd = await workspace();
    const out = await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    expect(out.outcome).toBe('ok');
    const row = await settled();
    expect(row).toMatchObject({ real_files: '["fake.txt"]', shadow_outcome: 'ok', shadow_files: '[]', shadow_checks: 'failure', shape_match: 0, shadow_cost_usd: 0.03 });
    expect(shadowReport(fx.db)).toMatchObject({ compared: 1, matched: 0, agreementRate: 0, costDeltaUsd: -0.02 });
  });

  it('a failing shadow is recorded on the pair and leaves the real outcome as it is', async () => {
    setup('happy', 'exit-143');
    const cwd = await workspace();
    const out = await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    expect(out).toMatchObject({ outcome: 'ok', costUsd: 0.05 });
    const row = await settled();
    expect(row.shadow_status).toBe('done');
    expect(row.shadow_outcome).not.toBe('ok');
    expect(row.shadow_checks).toBe('skipped');
    expect(row.shadow_checks_reason).toBe('the shadow did not end well');
    expect(row.real_outcome).toBe('ok');
  });

  it('sample 0 runs no shadow; the sampling is a fixed function of task, attempt and fix', async () => {
    setup('happy', 'happy', { sample: 0 });
    const out = await runAgent(fx.deps, workInput(await workspace()), new AbortController().signal);
    expect(out.outcome).toBe('ok');
    expect(recentShadowPairs(fx.db)).toEqual([]);
    const picks = Array.from({ length: 400 }, (_, i) => shadowSampled(`T${i}`, 0, 0, 0.5));
    expect(Array.from({ length: 400 }, (_, i) => shadowSampled(`T${i}`, 0, 0, 0.5))).toEqual(picks);
    const share = picks.filter(Boolean).length / picks.length;
    expect(share).toBeGreaterThan(0.35);
    expect(share).toBeLessThan(0.65);
    expect(shadowSampled('T1', 0, 0, 1)).toBe(true);
    expect(shadowSampled('T1', 0, 0, 0)).toBe(false);
  });

  it('past the daily soft cap no shadow starts (the real session still runs)', async () => {
    setup('happy', 'happy', { budget: { dailySoftUsd: 1, dailyHardUsd: 10, perTaskUsd: 2 } });
    fx.db.prepare(`INSERT INTO event (at, actor, kind, task, payload) VALUES (?, 'engine', 'spend', NULL, ?)`).run(Date.now(), JSON.stringify({ usd: 1.5, role: 'worker' }));
    const out = await runAgent(fx.deps, workInput(await workspace()), new AbortController().signal);
    expect(out.outcome).toBe('ok');
    expect(recentShadowPairs(fx.db)).toEqual([]);
    const skipped = listEvents(fx.db, { task: 'T1' }).filter((e) => e.kind === 'shadow.skipped').map((e) => JSON.parse(e.payload));
    expect(skipped).toEqual([expect.objectContaining({ attempt: 0, reason: expect.stringContaining('soft cap') })]);
  });

  it('the killswitch terminates a running shadow (its whole group); recorded as interrupted, never started again', async () => {
    setup('happy', 'hang', { sandbox: { mode: 'none' } }); // pids read from outside
    let killed = false;
    fx.deps.killed = () => killed;
    const cwd = await workspace();
    expect((await runAgent(fx.deps, workInput(cwd), new AbortController().signal)).outcome).toBe('ok');
    const pidsFile = join(repo.scratch, 'pids');
    const pids = await waitFor('the hanging shadow to start', () => existsSync(pidsFile) && readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number).length === 2 && readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number), 30_000, 50);
    killed = true;
    const row = await settled();
    expect(row).toMatchObject({ shadow_status: 'interrupted', shadow_error: 'the killswitch stopped the shadow', real_outcome: 'ok' });
    await waitFor('the shadow group gone', () => pids.every((pid) => !isAlive(pid)), 10_000, 50);
    // The same session again (a restart re-running the effect): its pair exists, so no second shadow starts.
    killed = false;
    await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    expect(recentShadowPairs(fx.db)).toHaveLength(1);
  });

  it('a shadow in flight when the engine ended is terminated and recorded as interrupted at the next start', async () => {
    setup('happy', 'hang', { sandbox: { mode: 'none' } });
    const stop = new AbortController();
    // This "engine" never watches its shadow to the end: only the next start's sweep does.
    fx.deps.shadowStop = stop.signal;
    const cwd = await workspace();
    await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    const running = await waitFor('the shadow pid recorded', () => recentShadowPairs(fx.db).find((r) => r.pid !== null), 30_000, 50);
    const host = fx.deps.hosts.get('local')!;
    const swept = await interruptShadows({ ...fx.deps, terminateGroup: (_h, pid) => host.killGroup(pid) });
    expect(swept).toBe(1);
    expect(getShadowPairFor(fx.db, { task: 'T1', attempt: 0, fix: 0 })).toMatchObject({ shadow_status: 'interrupted', shadow_error: 'the engine ended while the shadow ran' });
    await waitFor('the swept shadow gone', () => !isAlive(running.pid!), 10_000, 50);
    stop.abort();
    expect(await interruptShadows(fx.deps)).toBe(0);
  });
});
