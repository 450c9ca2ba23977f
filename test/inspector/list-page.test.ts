/** The task lists draw a page of rows at a time: a project of 1,000 tasks must not cost seconds of layout per update. */
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

const dir = mkdtempSync(join(tmpdir(), 'oxi-list-page-'));
const adapter = validateConfig({ name: 'pages', engine: { dashboard: { port: 0 } } }, { configPath: join(dir, 'oxi.config.json') });
let db: Db;
let server: DashboardServer;
let browser: Browser;

beforeAll(async () => {
  db = openDb(adapter.paths.db);
  ingestItems(db, Array.from({ length: 150 }, (_, i) => ({ id: `T0-${1000 + i}`, repo: 'pages', tier: 0, title: `Task ${i}`, description: '', seq: i })), Date.now());
  server = await startDashboard({ db, adapter, token: { value: 'list-page-token-0123456789', generated: true }, port: 0, pollMs: 50 });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('task list pages', () => {
  it('draws 100 of 150 rows, says how many are left, and draws the rest on "show more"', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => document.getElementById('count-inflight')?.textContent !== '');
    await page.waitForFunction(() => document.querySelectorAll('#inflight-rows tr.task').length === 100);
    const more = page.getByTestId('more-inflight');
    expect(await more.textContent()).toBe('show 50 more (50 not shown)');
    await more.click();
    await page.waitForFunction(() => document.querySelectorAll('#inflight-rows tr.task').length === 150);
    expect(await page.getByTestId('more-inflight').count()).toBe(0);
    await page.close();
  }, 120_000);
});
