/**
 * Triage as a background concern over a real database and a real chat-completions server: a stop gets
 * one summary on its event, a restart does not ask again, a stop left without one (killed, a crash) is
 * asked for once after it, a failed call is recorded once, and the task's row is never touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inferenceClient } from '../../../actors/inference/client.js';
import { createTriage } from '../../../actors/inference/triage.js';
import { triagePrompt } from '../../../actors/inference/triage-prompt.js';
import { systemClock } from '../../../src/clock.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { appendEvent, listEvents } from '../../../src/store/ledger.js';
import { pendingTriage } from '../../../src/store/inference.js';
import { abandonQueued, getTask, ingestItems } from '../../../src/store/tasks.js';
import { startInferenceServer, type ChatReply } from '../../helpers/inference-server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function bed(o: { reply?: () => ChatReply; timeoutMs?: number; hardUsd?: number } = {}) {
  const server = await startInferenceServer({ convention: 'openrouter', costUsd: 0.002, reply: o.reply });
  cleanups.push(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'oxi-triage-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const db: Db = openDb(join(dir, 'oxi.db'));
  cleanups.push(() => db.close());
  const now = Date.now();
  ingestItems(db, [{ id: 'T0-1', repo: 'demo', tier: 0, title: 'Add double(x)', description: 'x * 2', seq: 1 }], now);
  appendEvent(db, { at: now, actor: 'task:T0-1', kind: 'agent.failed', task: 'T0-1', payload: { error: 'max turns reached in the first attempt' } });
  appendEvent(db, { at: now, actor: 'task:T0-1', kind: 'critic.reject', task: 'T0-1', payload: { reasons: ['touches the sensitive path .github/ci.yml'] } });
  abandonQueued(db, 'T0-1', 'rejected after 0 fix attempts: touches the sensitive path .github/ci.yml', now, 'test');
  const adapter = {
    inference: { baseUrl: server.url, models: { triage: 'm-triage' }, timeoutMs: o.timeoutMs ?? 10_000 },
    budget: { perTaskUsd: 1, dailySoftUsd: 1, dailyHardUsd: o.hardUsd ?? 5 },
    triage: { enabled: true, maxAgeHours: 24 },
  };
  let killed = false;
  const start = () => {
    const client = inferenceClient({ adapter, db, clock: systemClock, env: {}, killed: () => killed });
    const triage = createTriage({ adapter, db, clock: systemClock, client, killed: () => killed });
    cleanups.push(() => triage.stop());
    return triage;
  };
  const rows = (kind: string) => listEvents(db).filter((r) => r.kind === kind).map((r) => ({ ...r, payload: JSON.parse(r.payload) }));
  return { server, db, start, rows, setKilled: (k: boolean) => (killed = k) };
}

describe('triage', () => {
  it('an abandoned task gets one summary on its stop, from a prompt holding its reason and the critic reasons; a restart asks nothing', async () => {
    const t = await bed();
    const before = getTask(t.db, 'T0-1');
    const first = t.start();
    first.scan();
    first.scan(); // a second commit while the call is in flight asks nothing more
    await first.idle();
    expect(t.server.requests).toHaveLength(1);
    expect(t.server.requests[0].text).toContain('touches the sensitive path .github/ci.yml');
    expect(t.server.requests[0].text).toContain('abandoned');
    expect(t.server.requests[0].text).toMatch(/Last failure \(critic\.reject\)/);
    const stop = t.rows('task.abandoned')[0];
    const [row] = t.rows('task.triage');
    expect(row).toMatchObject({ task: 'T0-1', actor: 'triage', payload: { event: stop.id, status: 'abandoned', model: 'm-triage', costUsd: 0.002, costSource: 'usage.total_cost' } });
    expect(row.payload.summary).toMatch(/critic rejected/);
    expect(t.rows('spend').map((r) => r.payload)).toEqual([expect.objectContaining({ usd: 0.002, role: 'triage', task: 'T0-1' })]);
    expect(getTask(t.db, 'T0-1')).toEqual(before);
    await first.stop();

    const restarted = t.start();
    restarted.scan();
    await restarted.idle();
    expect(t.server.requests).toHaveLength(1);
    expect(pendingTriage(t.db, 0)).toEqual([]);
  });

  it('killed: no call; a stop left owed at a crash is asked for once after the restart', async () => {
    const t = await bed();
    t.setKilled(true);
    const before = t.start();
    before.scan();
    await before.idle();
    expect(t.server.requests).toHaveLength(0);
    expect(t.rows('task.triage')).toEqual([]);
    await before.stop(); // the process ends here with the summary still owed

    t.setKilled(false);
    const after = t.start();
    after.scan();
    after.scan();
    await after.idle();
    expect(t.server.requests).toHaveLength(1);
    expect(t.rows('task.triage')).toHaveLength(1);
  });

  it('the daily hard cap reached: no call, nothing recorded, the summary still owed', async () => {
    const t = await bed({ hardUsd: 1 });
    appendEvent(t.db, { at: Date.now(), actor: 'engine', kind: 'spend', payload: { usd: 1 } });
    const triage = t.start();
    triage.scan();
    await triage.idle();
    triage.scan(); // refused today: not asked again at every commit
    await triage.idle();
    expect(t.server.requests).toHaveLength(0);
    expect(t.rows('task.triage')).toEqual([]);
    expect(pendingTriage(t.db, 0)).toHaveLength(1);
  });

  it('a timeout: recorded once as task.triage_missed with the named error; the task is untouched and not asked again', async () => {
    const t = await bed({ timeoutMs: 300, reply: () => ({ hang: true }) });
    const before = getTask(t.db, 'T0-1');
    const triage = t.start();
    triage.scan();
    await triage.idle();
    const [failed] = t.rows('task.triage_missed');
    expect(failed.payload).toMatchObject({ status: 'abandoned', errorName: 'InferenceTimeoutError' });
    expect(failed.payload.error).toMatch(/inference\.timeoutMs/);
    expect(getTask(t.db, 'T0-1')).toEqual(before);
    triage.scan();
    await triage.idle();
    expect(t.server.requests).toHaveLength(1);
  });

  it('a kill and resume that returns the task to the same stop asks nothing more; a new stop gets its own summary', async () => {
    const t = await bed();
    const first = t.start();
    first.scan();
    await first.idle();
    expect(t.server.requests).toHaveLength(1);
    // As the persister writes it: into held on a kill, back to the stop (from held) on the resume.
    const at = Date.now();
    appendEvent(t.db, { at, actor: 'task:T0-1', kind: 'task.held', task: 'T0-1', payload: { from: 'abandoned', event: 'engine.killed' } });
    appendEvent(t.db, { at, actor: 'task:T0-1', kind: 'task.abandoned', task: 'T0-1', payload: { from: 'held', event: 'engine.resumed' } });
    first.scan();
    await first.idle();
    expect(t.server.requests).toHaveLength(1);
    appendEvent(t.db, { at, actor: 'task:T0-1', kind: 'task.abandoned', task: 'T0-1', payload: { from: 'rejected', event: 'xstate.done' } });
    first.scan();
    await first.idle();
    expect(t.server.requests).toHaveLength(2);
    expect(t.rows('task.triage')).toHaveLength(2);
  });

  it('the prompt is bounded and redacts secret-looking payload keys', () => {
    const messages = triagePrompt({
      task: { id: 'T0-9', title: 't', status: 'awaiting_human', attempt: 0, reason: 'x'.repeat(10_000) },
      recent: [{ id: 1, at: 0, actor: 'a', kind: 'note', task: 'T0-9', payload: JSON.stringify({ apiKey: 'hunter2', detail: 'y' }) }],
      lastFailure: { kind: 'agent.failed', payload: JSON.stringify({ token: 'hunter2', error: 'boom' }) },
    });
    const text = messages.map((m) => m.content).join('\n');
    expect(text.length).toBeLessThan(3000);
    expect(text).not.toContain('hunter2');
    expect(text).toContain('awaiting_human');
    expect(text).toContain('boom');
  });
});
