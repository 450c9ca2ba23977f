import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { credentialState, oauthNotifyGate, readCredentials } from '../../../actors/agents/credentials.js';
import { ManualClock } from '../../../src/clock.js';
import { dailyBudgetGate } from '../../../src/dispatch/budget.js';
import { appendEvent, listEvents } from '../../../src/store/ledger.js';
import { agentFixture, type AgentFixture } from '../../helpers/agent-deps.js';
import { makeRepo, type TestRepo } from '../../helpers/git-repo.js';

let repo: TestRepo | undefined;
let fx: AgentFixture | undefined;
afterEach(() => {
  fx?.close();
  repo?.cleanup();
  fx = undefined;
});

const DAY = 86_400_000;

describe('daily budget gate', () => {
  it('one soft warning, one hard stop, no dispatch until the next UTC day', () => {
    repo = makeRepo();
    fx = agentFixture(repo.dir, join(repo.scratch, 'state'), { agents: { worker: { backend: 'claude' } } });
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 10));
    const notes: string[] = [];
    const gate = dailyBudgetGate({ db: fx.db, clock, budget: { perTaskUsd: 1, dailySoftUsd: 2, dailyHardUsd: 3 }, notifier: { notify: async (m) => void notes.push(m.kind) } });
    const spend = (usd: number) => appendEvent(fx!.db, { at: clock.now(), actor: 'task:T1', kind: 'spend', task: 'T1', payload: { usd } });
    spend(1.5);
    expect(gate()).toMatchObject({ soft: false, exceeded: false });
    spend(1);
    expect(gate()).toMatchObject({ soft: true, exceeded: false });
    spend(1);
    for (let i = 0; i < 5; i++) expect(gate()).toMatchObject({ exceeded: true, until: Date.UTC(2026, 5, 2) });
    expect(listEvents(fx.db, { kindPrefix: 'budget.' }).map((e) => e.kind)).toEqual(['budget.soft_warning', 'budget.hard_stop']);
    expect(notes).toEqual(['budget.soft_warning', 'budget.hard_stop']);
    clock.advance(DAY);
    expect(gate()).toMatchObject({ spentToday: 0, exceeded: false });
  });
});

describe('oauthWatch credentials', () => {
  const now = Date.UTC(2026, 5, 1);
  it('ok → expiring → expired from claudeAiOauth.expiresAt', () => {
    const file = (expiresAt: number) => JSON.stringify({ claudeAiOauth: { accessToken: 'x', expiresAt } });
    expect(credentialState(file(now + 3 * DAY), now, DAY).state).toBe('ok');
    expect(credentialState(file(now + DAY / 2), now, DAY).state).toBe('expiring');
    expect(credentialState(file(now - 1), now, DAY).state).toBe('expired');
    expect(credentialState(undefined, now, DAY).state).toBe('expired');
    expect(credentialState('{not json', now, DAY).state).toBe('expired');
  });

  it('reads the host HOME the agent sees; expired blocks dispatch there; API-key auth is always ok', async () => {
    repo = makeRepo();
    const home = join(repo.scratch, 'home');
    mkdirSync(join(home, '.claude'), { recursive: true });
    writeFileSync(join(home, '.claude', '.credentials.json'), JSON.stringify({ claudeAiOauth: { expiresAt: Date.now() - 1000 } }));
    fx = agentFixture(repo.dir, join(repo.scratch, 'state'), { agents: { worker: { backend: 'claude' }, env: { allow: ['PATH'], set: { HOME: home } } } });
    fx.deps.pool.setCapacity('local', 1);
    const expired = await readCredentials(fx.deps);
    expect(expired.state).toBe('expired');
    expect(expired.detail).toContain('expired at');
    expect(fx.deps.pool.hosts()).toEqual([expect.objectContaining({ name: 'local', blocked: true })]);
    fx.close();

    fx = agentFixture(repo.dir, join(repo.scratch, 'state2'), { agents: { worker: { backend: 'claude' }, env: { allow: ['PATH'], set: { HOME: home, ANTHROPIC_API_KEY: 'sk-ant-x' } } } });
    fx.deps.pool.setCapacity('local', 1);
    expect(await readCredentials(fx.deps)).toMatchObject({ state: 'ok', detail: expect.stringContaining('API-key auth') });
    expect(fx.deps.pool.hosts()[0].blocked).toBe(false);
  });
});

describe('oauth notifications', () => {
  it('go out once per change of state, not at every check', () => {
    const gate = oauthNotifyGate();
    const expired = { kind: 'oauth', title: 'Agent credentials expired: dispatch is blocked' };
    gate.sawState('expired');
    expect([gate.shouldSend(expired), gate.shouldSend(expired), gate.shouldSend(expired)]).toEqual([true, false, false]);
    expect(gate.shouldSend({ kind: 'budget.hard_stop', title: 'x' })).toBe(true);
    gate.sawState('ok');
    expect(gate.shouldSend(expired)).toBe(true);
  });
});
