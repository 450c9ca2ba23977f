/**
 * Stuck-task triage in the real engine: the scripted agent, the local forge, a real chat-completions server.
 * One task is abandoned (the critic rejects a sensitive path, no fix allowed), one parks in awaiting_human
 * (a protected path): each stop gets its summary, shown by `oxi tasks --json` and `oxi tasks`; the API key is
 * in neither the database nor the logs. With triage off, the server is never called and nothing new is written.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { startEngine } from '../../src/runtime/engine.js';
import { engineProject } from '../helpers/engine-project.js';
import { startInferenceServer } from '../helpers/inference-server.js';
import { oxi, waitFor } from '../helpers/project.js';

const KEY = 'sk-or-v1-triage-test-key-5f1e2d3c4b5a';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function run(enabled: boolean) {
  const server = await startInferenceServer({ convention: 'litellm', costUsd: 0.0007, reply: (r) => ({ text: `Summary for ${/Task (\S+):/.exec(r.text)?.[1]}: it stopped on a path policy; a human should review the change.` }) });
  cleanups.push(() => server.close());
  const t = await engineProject({ tasks: 2, forge: 'local', cleanups });
  const [held, dropped] = t.p.ids; // T0-101 (src/double.js), T1-102 (src/square.js)
  t.adapter.policy.maxFixAttempts = 0;
  t.adapter.policy.scope = { ...t.adapter.policy.scope, sensitive: ['src/square.js'], protected: ['src/double.js'] };
  t.adapter.inference = { baseUrl: server.url, apiKeyEnv: 'OXI_TRIAGE_TEST_KEY', models: { triage: 'x-ai/grok-4-fast' }, timeoutMs: 20_000 };
  t.adapter.triage = { enabled, maxAgeHours: 24 };
  const lines: string[] = [];
  const engine = startEngine({ adapter: t.adapter, db: t.db, clock: systemClock, notifier: { notify: async () => {} }, log: (l) => lines.push(l), inferenceEnv: { OXI_TRIAGE_TEST_KEY: KEY } });
  let stopped = false;
  cleanups.push(() => (stopped ? undefined : engine.stop()));
  const status = (id: string) => t.tasks().find((r) => r.id === id)?.status;
  await waitFor('one task abandoned, one awaiting a human', () => status(dropped) === 'abandoned' && status(held) === 'awaiting_human', 120_000);
  if (enabled) await waitFor('a summary on each stop', () => t.events('task.triage').length === 2, 60_000);
  await engine.stop();
  stopped = true;
  return { ...t, server, held, dropped, lines };
}

describe('stuck-task triage in the engine', () => {
  it('summarises the abandoned and the awaiting_human task once each; oxi tasks shows it; the key is stored nowhere', { timeout: 240_000 }, async () => {
    const t = await run(true);
    expect(t.server.requests).toHaveLength(2);
    for (const r of t.server.requests) expect(r.authorization).toBe(`Bearer ${KEY}`);
    const dropPrompt = t.server.requests.find((r) => r.text.includes(`Task ${t.dropped}`))!.text;
    expect(dropPrompt).toMatch(/abandoned/);
    expect(dropPrompt).toMatch(/src\/square\.js/); // the critic's reason reached the prompt

    const stops = new Map([...t.events('task.abandoned'), ...t.events('task.awaiting_human')].map((e) => [e.task, e.id]));
    for (const e of t.events('task.triage')) expect(JSON.parse(e.payload)).toMatchObject({ event: stops.get(e.task), costUsd: 0.0007, costSource: 'x-litellm-response-cost' });
    const spend = t.events('spend').map((e) => JSON.parse(e.payload)).filter((p) => p.role === 'triage');
    expect(spend).toHaveLength(2);

    const listed = oxi(['tasks', '--json'], { cwd: t.p.dir });
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ id: string; status: string; triage?: string }>;
    expect(rows.find((r) => r.id === t.held)).toMatchObject({ status: 'awaiting_human', triage: `Summary for ${t.held}: it stopped on a path policy; a human should review the change.` });
    expect(rows.find((r) => r.id === t.dropped)?.triage).toMatch(new RegExp(`^Summary for ${t.dropped}:`));
    const human = oxi(['tasks'], { cwd: t.p.dir });
    expect(human.stdout).toContain(`↳ triage: Summary for ${t.held}`);

    // The key: in no database file, no log file, no log line.
    for (const file of [...filesUnder(join(t.p.dir, '.oxi'))]) expect(readFileSync(file).includes(KEY), file).toBe(false);
    expect(t.lines.join('\n')).not.toContain(KEY);
  });

  it('off (the default): the server is never called, no triage or inference row is written, oxi tasks has no triage field', { timeout: 240_000 }, async () => {
    const t = await run(false);
    expect(t.server.requests).toHaveLength(0);
    const kinds = (t.db.prepare(`SELECT DISTINCT kind FROM event WHERE kind LIKE 'task.triage%' OR actor IN ('triage', 'inference') OR kind = 'budget.undercount_risk'`).all() as Array<{ kind: string }>).map((r) => r.kind);
    expect(kinds).toEqual([]);
    const rows = JSON.parse(oxi(['tasks', '--json'], { cwd: t.p.dir }).stdout) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).not.toHaveProperty('triage');
  });
});
