/**
 * The dashboard's message box: POST /api/v1/tasks/:id/say (token-protected like every action) queues a message
 * for the task's live agent exactly as `oxi say` does, and the box in the task view sends it from a real page.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startDashboard, type DashboardServer } from '../../inspector/server.js';
import { validateConfig } from '../../src/config/validate.js';
import { setKill, clearKill } from '../../src/runtime/killswitch.js';
import { openDb, type Db } from '../../src/store/db.js';
import { messagesOf, openListener } from '../../src/store/messages.js';
import { ingestItems } from '../../src/store/tasks.js';
import { launchChromium } from '../helpers/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-say-dash-'));
const adapter = validateConfig({ name: 'dash', engine: { dashboard: { port: 0 } } }, { configPath: join(dir, 'oxi.config.json') });
const TOKEN = { value: 'say-token-0123456789abcdef', generated: true };
let db: Db;
const servers: DashboardServer[] = [];
let browser: Browser | undefined;

beforeAll(() => {
  db = openDb(adapter.paths.db);
  ingestItems(db, [
    { id: 'T0-1', repo: 'dash', tier: 0, title: 'Live', description: 'one', seq: 1 },
    { id: 'T0-2', repo: 'dash', tier: 0, title: 'Queued', description: 'two', seq: 2 },
  ], Date.now());
  db.prepare(`UPDATE tasks SET status='working', host='local' WHERE id='T0-1'`).run();
  db.prepare(`INSERT INTO actor_snapshot (actor, machine, status, value, snapshot, seq, updated_at) VALUES ('task:T0-1', 'task', 'active', ?, ?, 1, ?)`).run(
    JSON.stringify({ live: 'working' }), JSON.stringify({ value: { live: 'working' }, context: { id: 'T0-1' } }), Date.now(),
  );
  // The worker effect opens this row when a worker session goes live (test/actors/effects/say.test.ts drives the real one).
  openListener(db, { task: 'T0-1', host: 'local', pid: 4242, backend: 'claude', at: Date.now() });
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  await browser?.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve() {
  const server = await startDashboard({ db, adapter, token: TOKEN, port: 0, pollMs: 50 });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const bearer = { authorization: `Bearer ${TOKEN.value}` };

describe('dashboard: say', () => {
  it('needs the token; queues for a live agent; refuses the rest with the reason', async () => {
    const base = await serve();
    expect((await post(`${base}/api/v1/tasks/T0-1/say`, { message: 'hi' })).status).toBe(401);
    expect((await post(`${base}/api/v1/tasks/T0-1/say`, { text: 'hi' }, bearer)).status).toBe(400);
    const ok = await post(`${base}/api/v1/tasks/T0-1/say`, { message: 'use the helper in src/util.js' }, bearer);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ task: 'T0-1', status: 'queued', backend: 'claude', pid: 4242 });
    expect(messagesOf(db, 'T0-1').map((m) => [m.body, m.by.startsWith('dashboard@')])).toEqual([['use the helper in src/util.js', true]]);
    const idle = await post(`${base}/api/v1/tasks/T0-2/say`, { message: 'hi' }, bearer);
    expect(idle.status).toBe(409);
    expect((await idle.json()).error).toContain('Task T0-2 has no live agent to tell');
    expect((await post(`${base}/api/v1/tasks/NOPE/say`, { message: 'hi' }, bearer)).status).toBe(404);
    setKill(db, adapter.paths.stateDir, { reason: 'page test', by: 'test', hard: false, at: Date.now() });
    const killed = await post(`${base}/api/v1/tasks/T0-1/say`, { message: 'hi' }, bearer);
    clearKill(db, adapter.paths.stateDir, 'test');
    expect(killed.status).toBe(409);
    expect((await killed.json()).error).toContain('the engine is killed (page test)');
  });

  it('the task view has a message box that sends to the selected task', async () => {
    const base = await serve();
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${base}/#token=${TOKEN.value}`);
    await page.locator('[data-testid=actor-select]').selectOption('task:T0-1');
    const box = page.locator('[data-testid=say-box]');
    await box.waitFor({ state: 'visible' });
    await page.locator('[data-testid=say-input]').fill('also update the changelog');
    await page.locator('[data-testid=say-send]').click();
    await page.locator('[data-testid=say-status]', { hasText: 'queued for T0-1' }).waitFor();
    expect(messagesOf(db, 'T0-1').map((m) => m.body)).toContain('also update the changelog');
    await page.locator('[data-testid=actor-select]').selectOption('');
    await box.waitFor({ state: 'hidden' });
  });
});
