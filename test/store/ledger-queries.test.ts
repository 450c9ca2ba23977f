/** The latch questions of ledger-queries.ts (a gate's last word, the daemon's config row), from a real SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { appendEvent, spendBetween, spendByRepoBetween } from '../../src/store/ledger.js';
import { ingestItems } from '../../src/store/tasks.js';
import { LATCH_KINDS, lastEventOfKinds, lastEventPerSubject } from '../../src/store/ledger-queries.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-ledger-queries-'));
const db = openDb(join(dir, 'oxi.db'));
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** SQLite's plan for the statement a query function prepares: the function is run with `prepare` watched. */
function planOf(run: () => unknown): string[] {
  const plans: string[] = [];
  const prepare = db.prepare.bind(db);
  (db as { prepare: unknown }).prepare = (sql: string) => {
    plans.push(...(prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...new Array((sql.match(/\?/g) ?? []).length).fill('x')) as Array<{ detail: string }>).map((r) => r.detail));
    return prepare(sql);
  };
  try {
    run();
  } finally {
    (db as { prepare: unknown }).prepare = prepare;
  }
  return plans;
}

describe('latches', () => {
  for (let i = 0; i < 2000; i++) appendEvent(db, { at: i, actor: 'task:T0-1', kind: 'task.working', task: 'T0-1', payload: { from: 'x' } });

  it('a latch kind nobody wrote is answered from the index, not by scanning the ledger', () => {
    expect(lastEventOfKinds(db, ['forge.gate_closed', 'forge.gate_opened'])).toBeUndefined();
    const plan = planOf(() => lastEventOfKinds(db, ['dispatch.env_blocked', 'dispatch.env_cleared']));
    expect(plan.join(' | ')).toMatch(/USING INDEX event_latch/);
    expect(planOf(() => lastEventPerSubject(db, ['agent.gate_closed', 'agent.gate_opened'], 'backend')).join(' | ')).toMatch(/USING INDEX event_latch/);
    expect(LATCH_KINDS).toContain('config.loaded');
  });

  it('gives the newest row of the kinds asked, per subject too; other kinds still work without the index', () => {
    appendEvent(db, { at: 5000, actor: 'forge', kind: 'forge.gate_closed', payload: { reason: '401' } });
    appendEvent(db, { at: 5001, actor: 'task:T0-1', kind: 'task.working', task: 'T0-1', payload: {} });
    appendEvent(db, { at: 5002, actor: 'forge', kind: 'forge.gate_opened', payload: {} });
    appendEvent(db, { at: 5003, actor: 'agents', kind: 'agent.gate_closed', payload: { backend: 'claude', reason: 'rate limited' } });
    appendEvent(db, { at: 5004, actor: 'agents', kind: 'agent.gate_closed', payload: { backend: 'codex', reason: 'key refused' } });
    appendEvent(db, { at: 5005, actor: 'agents', kind: 'agent.gate_opened', payload: { backend: 'claude' } });
    expect(lastEventOfKinds(db, ['forge.gate_closed', 'forge.gate_opened'])).toMatchObject({ kind: 'forge.gate_opened', at: 5002 });
    expect(lastEventOfKinds(db, ['forge.gate_closed'])).toMatchObject({ kind: 'forge.gate_closed', at: 5000 });
    expect(lastEventOfKinds(db, ['agent.gate_closed', 'agent.gate_opened'], { backend: 'codex' })).toMatchObject({ kind: 'agent.gate_closed', at: 5004 });
    const perBackend = lastEventPerSubject(db, ['agent.gate_closed', 'agent.gate_opened'], 'backend');
    expect(perBackend.map((r) => [JSON.parse(r.payload).backend, r.kind])).toEqual([['codex', 'agent.gate_closed'], ['claude', 'agent.gate_opened']]);
    expect(lastEventOfKinds(db, ['task.working', 'forge.gate_closed'])).toMatchObject({ kind: 'task.working', at: 5001 });
  });
});

describe("today's spend", () => {
  it('sums the spend rows of the window by index alone, in all and per repository', () => {
    ingestItems(db, [{ id: 'T0-1', repo: 'one', tier: 0, title: 'a', description: '', seq: 0 }], 1);
    appendEvent(db, { at: 9000, actor: 'task:T0-1', kind: 'spend', task: 'T0-1', payload: { usd: 0.5 } });
    appendEvent(db, { at: 9001, actor: 'engine', kind: 'spend', payload: { usd: 0.25 } });
    appendEvent(db, { at: 9500, actor: 'task:T0-1', kind: 'spend', task: 'T0-1', payload: { usd: 4 } });
    expect(spendBetween(db, 9000, 9500)).toBe(0.75);
    expect(spendByRepoBetween(db, 9000, 9501)).toEqual({ one: 4.5, '': 0.25 });
    expect(planOf(() => spendBetween(db, 9000, 9500)).join(' | ')).toMatch(/USING (COVERING )?INDEX event_spend_usd/);
  });
});
