/**
 * The page's socket opens at page start (inspector/public/socket.js), before the other modules load, and the
 * page takes it over: with the token from the URL fragment off loopback, over 1,000 tasks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../inspector/server.js';
import { validateConfig } from '../../src/config/validate.js';
import { openDb, type Db } from '../../src/store/db.js';
import { ingestItems } from '../../src/store/tasks.js';
import { launchChromium } from '../helpers/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-page-socket-'));
const adapter = validateConfig({ name: 'many', engine: { dashboard: { port: 0 } } }, { configPath: join(dir, 'oxi.config.json') });
const TOKEN = { value: 'page-socket-token-0123456789', generated: true };
let db: Db;
let server: DashboardServer;
let browser: Browser;

beforeAll(async () => {
  db = openDb(adapter.paths.db);
  ingestItems(db, Array.from({ length: 1000 }, (_, i) => ({ id: `T0-${1000 + i}`, repo: 'many', tier: 0, title: `Task ${i}`, description: '', seq: i })), Date.now());
  db.prepare(`UPDATE tasks SET status='working' WHERE seq < 400`).run();
  // Off loopback: the socket is refused without the token, so the page only goes live if the early socket carried it.
  server = await startDashboard({ db, adapter, token: TOKEN, port: 0, bind: '0.0.0.0', pollMs: 50 });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('page start', () => {
  it('goes live with the fragment\'s token off loopback: 100 of 1,000 rows, the counts of all, the rest on demand', async () => {
    const page = await browser.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));
    await page.goto(`${server.url}#token=${TOKEN.value}`);
    await page.waitForFunction(() => document.getElementById('conn')?.textContent === 'live');
    await page.waitForFunction(() => document.querySelectorAll('#inflight-rows tr.task').length === 100 && document.getElementById('count-inflight')?.textContent === '400');
    // One socket: the one opened at page start, taken over by the page (not a second one).
    expect(sockets).toEqual(['/ws']);
    expect(new URL(page.url()).hash).not.toContain('token');
    expect(await page.getByTestId('more-inflight').textContent()).toBe('show 100 more (900 not shown)');
    // The parts drawn a frame later: every task in the actor picker.
    await page.waitForFunction(() => document.querySelectorAll('#actor-select option[value^="task:"]').length === 1000);
    await page.getByTestId('more-inflight').click();
    await page.waitForFunction(() => document.querySelectorAll('#inflight-rows tr.task').length === 200);
    expect(await page.locator('#inflight-rows tr.task').nth(150).getAttribute('data-task')).toBe('T0-1150');
    await page.close();
  }, 120_000);
});
