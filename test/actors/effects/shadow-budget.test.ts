/**
 * Shadow runs (agents.shadow) against the daily hard cap: a shadow is reserved like a task in flight, starts only
 * when its own per-task cap fits under the cap, and is bounded by that cap like the worker. Real worker sessions of
 * the fake `claude` (test/fixtures/bin/fake-claude.mjs), real git workspaces, a real SQLite file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent as runWorker } from '../../../actors/effects/run-agent.js';
import { recordingShadow } from '../../../actors/effects/shadow.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import { dailyBudgetGate } from '../../../src/dispatch/budget.js';
import { listEvents } from '../../../src/store/ledger.js';
import { getShadowPairFor, recentShadowPairs } from '../../../src/store/shadow.js';
import { agentFixture, FAKE_CLAUDE, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { makeRepo, type TestRepo } from '../../helpers/git-repo.js';
import { isAlive, waitFor } from '../../helpers/project.js';

const runAgent = recordingShadow(runWorker);
const budget = { perTaskUsd: 2, dailySoftUsd: 10, dailyHardUsd: 10 };

let repo: TestRepo;
let fx: AgentFixture;

function setup(worker: string, shadow: string) {
  repo = makeRepo();
  fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
    budget,
    checks: { command: [process.execPath, '-e', 'process.exit(0)'], timeoutMs: 60_000 },
    agents: {
      worker: { backend: 'claude', model: `scenario-${worker}` },
      shadow: { backend: 'claude', model: `scenario-${shadow}` },
      claude: { command: [process.execPath, FAKE_CLAUDE] },
      env: { set: { FAKE_CLAUDE_PIDS: join(repo.scratch, 'pids') } },
      timeouts: { wallMinutes: 1, stallMinutes: 1 },
      sandbox: { mode: 'none' }, // the hanging shadow's pids are read from outside
      network: 'open',
    },
  });
  seedTask(fx.db, 'T1');
}

let killed = false;
afterEach(async () => {
  // A shadow still hanging ends before its fixture does.
  killed = true;
  const pidsFile = repo ? join(repo.scratch, 'pids') : '';
  if (pidsFile && existsSync(pidsFile)) {
    const pids = readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number).filter((p) => p > 1);
    await waitFor('every shadow process gone', () => pids.every((pid) => !isAlive(pid)), 20_000, 50).catch(() => pids.forEach((pid) => isAlive(pid) && process.kill(pid, 'SIGKILL')));
  }
  fx?.close();
  repo?.cleanup();
  killed = false;
});

async function workspace(): Promise<string> {
  const path = join(repo.scratch, 'ws');
  await ensureWorkspace({ mainClone: repo.dir, path, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  return path;
}

const workInput = (cwd: string) => ({
  taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1',
  plan: { files_touched: ['fake.txt'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 'Task T1', description: 'add fake.txt',
});

const spent = (usd: number) => fx.db.prepare(`INSERT INTO event (at, actor, kind, task, payload) VALUES (?, 'engine', 'spend', NULL, ?)`).run(Date.now(), JSON.stringify({ usd, role: 'worker' }));

describe('shadows and the daily hard cap', () => {
  it('a shadow whose own per-task cap would pass the hard cap is skipped, the reason in the ledger; the real session runs', async () => {
    setup('happy', 'happy');
    // The real session holds its slot, as the engine's pool gives it: its cap is reserved too.
    fx.deps.pool.setCapacity('local', 1);
    expect(await fx.deps.pool.claim('T1', ['fake.txt'])).toMatchObject({ granted: true });
    // Below the soft cap: $6.5 spent + $2 for the real session + $2 for the shadow = $10.5 > $10.
    spent(6.5);
    const out = await runAgent(fx.deps, workInput(await workspace()), new AbortController().signal);
    expect(out).toMatchObject({ outcome: 'ok', costUsd: 0.05 });
    expect(recentShadowPairs(fx.db)).toEqual([]);
    const skipped = listEvents(fx.db, { task: 'T1' }).filter((e) => e.kind === 'shadow.skipped').map((e) => JSON.parse(e.payload));
    expect(skipped).toEqual([{ attempt: 0, fix: 0, reason: 'budget: starting it would pass the daily hard cap of $10 ($6.5 spent today + $2 reserved for 1 session in flight + $2 for this shadow)' }]);
  });

  it('a running shadow holds its cap in the gate until it ends (interrupted), then reserves nothing', async () => {
    setup('happy', 'hang');
    fx.deps.killed = () => killed;
    // $6.5 + the shadow's own $2 fits ($8.5); once it runs, a claim's $2 on top does not ($10.5 > $10).
    spent(6.5);
    const gate = dailyBudgetGate({ db: fx.db, clock: fx.deps.clock, budget, reservedUsd: () => (fx.deps.pool.inFlight() + 1) * budget.perTaskUsd });
    expect(gate().exceeded).toBe(false);
    expect((await runAgent(fx.deps, workInput(await workspace()), new AbortController().signal)).outcome).toBe('ok');
    await waitFor('the shadow running', () => recentShadowPairs(fx.db).find((r) => r.pid !== null && r.shadow_status === 'running'), 30_000, 50);
    expect(gate().exceeded).toBe(true);
    killed = true;
    await waitFor('the shadow interrupted', () => getShadowPairFor(fx.db, { task: 'T1', attempt: 0, fix: 0 })?.shadow_status === 'interrupted', 30_000, 50);
    expect(gate().exceeded).toBe(false);
  });

  it("the shadow's session carries what is left of the per-task cap, like the worker's", async () => {
    setup('spend-cap', 'spend-cap');
    // The task already spent $0.5 of its $2: each session may spend $1.5 at most.
    fx.db.prepare(`UPDATE tasks SET cost_usd = 0.5 WHERE id = 'T1'`).run();
    const out = await runAgent(fx.deps, workInput(await workspace()), new AbortController().signal);
    expect(out.costUsd).toBe(1.5);
    const row = await waitFor('the shadow done', () => {
      const r = getShadowPairFor(fx.db, { task: 'T1', attempt: 0, fix: 0 });
      return r && r.shadow_status !== 'running' ? r : undefined;
    }, 60_000, 50);
    expect(row).toMatchObject({ shadow_status: 'done', shadow_outcome: 'ok', shadow_cost_usd: 1.5 });
    const spends = listEvents(fx.db, { task: 'T1' }).filter((e) => e.kind === 'spend').map((e) => JSON.parse(e.payload));
    expect(spends).toContainEqual({ usd: 1.5, role: 'shadow', task: 'T1', pair: expect.any(Number) });
  });
});
