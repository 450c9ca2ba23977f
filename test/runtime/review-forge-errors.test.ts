/**
 * Found by the simulated week: a forge error during the review (a 502 on getPr or on the critic's
 * comment) was taken for the critic's rejection and spent a fix attempt. Now the review is retried
 * after a backoff, and the change merges once the forge answers again, without asking the critic
 * again for the same head. The real engine, the real critique effect, the scripted agent and the
 * local forge, whose review calls fail for a while.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalForge } from '../../actors/forges/local-forge.js';
import { systemClock } from '../../src/clock.js';
import { loadAdapter } from '../../src/config/load.js';
import { ForgeError } from '../../src/errors.js';
import type { AutoMergeResult } from '../../src/ports.js';
import { runDaemon } from '../../src/runtime/daemon.js';
import { agentEnv } from '../../src/agents/env.js';
import { openDb } from '../../src/store/db.js';
import { sampleProject } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const bad502 = () => new ForgeError('GitHub API 502 Bad Gateway: expected a JSON answer, got an HTML error page.', { fix: 'Retried with backoff.' });

/** The local forge, answering 502 to the critic's comment, or to arming auto-merge, a few times, as GitHub does on a bad day. */
class FlakyReviewForge extends LocalForge {
  commentFailures = 0;
  commentCalls = 0;
  armFailures = 0;
  armCalls = 0;

  override async comment(pr: number, body: string): Promise<void> {
    this.commentCalls++;
    if (this.commentFailures-- > 0) throw bad502();
    return super.comment(pr, body);
  }

  async armAutoMerge(): Promise<AutoMergeResult> {
    this.armCalls++;
    if (this.armFailures-- > 0) throw bad502();
    return { outcome: 'unavailable', detail: 'the local forge merges through the engine' };
  }
}

/** One task on the sample project, run to the end by the real daemon against the flaky forge. */
async function reviewWithFlakyForge(flaky: { commentFailures?: number; armFailures?: number }) {
  const p = sampleProject({
    tasks: 1,
    config: (c) => {
      c.policy = { ...(c.policy ?? {}), maxFixAttempts: 1 };
      c.engine = { ...c.engine, prWatchIntervalMs: 150, seedIntervalMs: 300, reaperIntervalMs: 1000, backoffBaseMs: 100, backoffMaxMs: 400 };
    },
  });
  cleanups.push(p.cleanup);
  const adapter = await loadAdapter({ configPath: p.configPath });
  const db = openDb(adapter.paths.db);
  cleanups.push(() => db.close());
  const forge = new FlakyReviewForge({
    db, repo: adapter.repo.path, mainBranch: adapter.repo.mainBranch, checksCommand: adapter.checks.command, checksTimeoutMs: adapter.checks.timeoutMs,
    branchPrefix: adapter.branches.prefix, env: agentEnv(adapter), now: () => systemClock.now(),
  });
  Object.assign(forge, flaky);
  const task = p.ids[0];
  const exit = await runDaemon({ adapter, db, forge, until: 'settled', signals: false, log: () => {} });
  const kinds = () => (db.prepare(`SELECT kind FROM event WHERE task = ? AND kind LIKE 'task.%' ORDER BY id`).all(task) as Array<{ kind: string }>).map((r) => r.kind);
  const criticSpend = () => (db.prepare(`SELECT payload FROM event WHERE task = ? AND kind = 'spend'`).all(task) as Array<{ payload: string }>)
    .map((r) => JSON.parse(r.payload) as { role: string; usd: number })
    .filter((x) => x.role === 'critic');
  return { db, forge, task, exit, kinds, criticSpend };
}

describe('forge errors during the review', () => {
  it('are retried without spending a fix attempt, and the change merges once the forge recovers', async () => {
    const { db, forge, task, exit, kinds, criticSpend } = await reviewWithFlakyForge({ commentFailures: 2 });
    expect(exit.code).toBe(0);
    expect(db.prepare('SELECT status, attempt FROM tasks WHERE id = ?').get(task)).toEqual({ status: 'merged', attempt: 0 });
    const steps = kinds();
    // Two failed reviews, each waited out and retried; never a rejection, never a second worker run.
    expect(steps.filter((k) => k === 'task.pr_backoff')).toHaveLength(2);
    expect(steps.filter((k) => k === 'task.reviewing')).toHaveLength(3);
    expect(steps).not.toContain('task.rejected');
    expect(steps.filter((k) => k === 'task.working')).toHaveLength(1);
    expect(forge.commentCalls).toBe(3);
    // The critic ran once: its verdict (and its spend) was recorded with the first failure, and the retries posted it.
    expect(criticSpend()).toHaveLength(1);
    expect(criticSpend()[0].usd).toBeGreaterThan(0);
    const verdicts = (db.prepare(`SELECT kind, payload FROM event WHERE task = ? AND kind LIKE 'critic.%' ORDER BY id`).all(task) as Array<{ kind: string; payload: string }>).map((r) => ({ kind: r.kind, ...JSON.parse(r.payload) }));
    expect(verdicts.map((v) => [v.kind, v.commented])).toEqual([['critic.approve', false], ['critic.commented', undefined]]);
    expect(verdicts[0].headSha).toBe(verdicts[1].headSha);
    const spent = (db.prepare(`SELECT COALESCE(SUM(json_extract(payload, '$.usd')), 0) AS usd FROM event WHERE task = ? AND kind = 'spend'`).get(task) as { usd: number }).usd;
    expect((db.prepare('SELECT cost_usd FROM tasks WHERE id = ?').get(task) as { cost_usd: number }).cost_usd).toBeCloseTo(spent, 6);
  });

  it('after a verdict posted but auto-merge not armed, the retry arms it without a second comment or a second critic run', async () => {
    const { db, forge, task, exit, kinds, criticSpend } = await reviewWithFlakyForge({ armFailures: 2 });
    expect(exit.code).toBe(0);
    expect(db.prepare('SELECT status, attempt FROM tasks WHERE id = ?').get(task)).toEqual({ status: 'merged', attempt: 0 });
    expect(kinds().filter((k) => k === 'task.pr_backoff')).toHaveLength(2);
    expect(forge.armCalls).toBe(3);
    expect(forge.commentCalls).toBe(1);
    expect(criticSpend()).toHaveLength(1);
    const verdicts = db.prepare(`SELECT kind, json_extract(payload, '$.commented') AS commented FROM event WHERE task = ? AND kind LIKE 'critic.%' ORDER BY id`).all(task);
    expect(verdicts).toEqual([{ kind: 'critic.approve', commented: 1 }]);
  });
});
