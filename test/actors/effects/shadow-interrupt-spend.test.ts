/**
 * A shadow cut off by the engine's end is charged what it spent at the next start (interruptShadows): its stream's
 * cost so far, or its per-task cap when its stream cannot be read, once per pair, so the daily gates see it.
 * Real SQLite file, real stream files where the shadow site puts them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { interruptShadows } from '../../../actors/effects/shadow.js';
import { shadowSiteOf } from '../../../actors/effects/shadow-site.js';
import { dailyBudgetGate } from '../../../src/dispatch/budget.js';
import { appendEvent, listEvents } from '../../../src/store/ledger.js';
import { claimShadowPair, getShadowPair } from '../../../src/store/shadow.js';
import { agentFixture, FAKE_CLAUDE, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';

let fx: AgentFixture;
let dir: string;

afterEach(() => {
  fx?.close();
  rmSync(dir, { recursive: true, force: true });
});

function setup(): AgentFixture {
  dir = mkdtempSync(join(tmpdir(), 'oxi-shadow-cut-'));
  fx = agentFixture(dir, join(dir, 'state'), {
    budget: { perTaskUsd: 2, dailySoftUsd: 8, dailyHardUsd: 10 },
    agents: { worker: { backend: 'claude' }, shadow: { backend: 'claude' }, claude: { command: [process.execPath, FAKE_CLAUDE] } },
  });
  return fx;
}

/** A shadow of `task`'s first session recorded as running (as runShadow claims it), and where its stream is. */
function running(task: string): { id: number; stream: string } {
  seedTask(fx.db, task);
  const id = claimShadowPair(fx.db, { task, attempt: 0, fix: 0, startSha: 'a'.repeat(40), workspace: join(dir, task), host: 'local', realBackend: 'claude', realModel: null, shadowBackend: 'claude', shadowModel: null, at: Date.now() });
  if (id === undefined) throw new Error(`expected a fresh pair for ${task}`);
  const stream = shadowSiteOf(fx.deps, { taskId: task, attempt: 0, fix: 0, host: 'local' } as never).files.stream;
  mkdirSync(dirname(stream), { recursive: true });
  return { id, stream };
}

const showing = (usd: number) =>
  `${JSON.stringify({ type: 'system', subtype: 'init' })}\n${JSON.stringify({ type: 'result', subtype: 'success', is_error: false, num_turns: 3, result: 'done', total_cost_usd: usd, usage: { input_tokens: 1, output_tokens: 1 } })}\n`;

const shadowSpend = (task: string) => listEvents(fx.db, { task }).filter((e) => e.kind === 'spend').map((e) => JSON.parse(e.payload) as { usd: number; role: string });

describe('a shadow cut off by the engine is charged at the next start', () => {
  it('charges what its stream shows, once, and the daily gate counts it', async () => {
    setup();
    const pair = running('T1');
    writeFileSync(pair.stream, showing(0.7));
    const gate = dailyBudgetGate({ db: fx.db, clock: fx.deps.clock, budget: fx.adapter.budget });
    expect(gate()).toMatchObject({ spentToday: 0 });
    expect(await interruptShadows(fx.deps)).toBe(1);
    expect(shadowSpend('T1')).toEqual([expect.objectContaining({ usd: 0.7, role: 'shadow' })]);
    expect(getShadowPair(fx.db, pair.id)).toMatchObject({ shadow_status: 'interrupted', shadow_cost_usd: 0.7, shadow_error: 'the engine ended while the shadow ran' });
    expect(gate().spentToday).toBeCloseTo(0.7);
    // A second start finds nothing running and charges nothing more.
    expect(await interruptShadows(fx.deps)).toBe(0);
    expect(shadowSpend('T1')).toHaveLength(1);
  });

  it('charges its per-task cap when its stream cannot be read, and says so', async () => {
    setup();
    const pair = running('T2');
    // A directory where the stream file should be: it cannot be read.
    mkdirSync(pair.stream);
    await interruptShadows(fx.deps);
    expect(shadowSpend('T2')).toEqual([expect.objectContaining({ usd: 2, role: 'shadow' })]);
    const row = getShadowPair(fx.db, pair.id)!;
    expect(row).toMatchObject({ shadow_status: 'interrupted', shadow_cost_usd: 2 });
    expect(row.shadow_error).toMatch(/its stream could not be read, so its per-task cap of \$2 is charged/);
  });

  it('never charges twice a shadow whose spend its end already appended', async () => {
    setup();
    const pair = running('T3');
    writeFileSync(pair.stream, showing(0.7));
    // Its end appended the spend, then the engine ended before the pair was recorded.
    appendEvent(fx.db, { at: Date.now(), actor: 'task:T3', kind: 'spend', task: 'T3', payload: { usd: 0.7, role: 'shadow', task: 'T3', pair: pair.id } });
    await interruptShadows(fx.deps);
    expect(shadowSpend('T3')).toHaveLength(1);
    expect(getShadowPair(fx.db, pair.id)).toMatchObject({ shadow_status: 'interrupted', shadow_cost_usd: 0.7 });
  });
});
