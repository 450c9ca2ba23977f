/** The "agent shadow" panel: its data in the snapshot and /api/v1/shadow, and the panel itself in headless Chromium. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startDashboard, type DashboardServer } from '../../inspector/server.js';
import { snapshotSchema } from '../../inspector/snapshot.js';
import { validateConfig } from '../../src/config/validate.js';
import { openDb, type Db } from '../../src/store/db.js';
import { launchChromium } from '../helpers/browser.js';
import { seedShadowPairs } from '../helpers/shadow-pairs.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-shadow-dash-'));
const config = (shadow: boolean) => validateConfig({ name: 'dash', ...(shadow ? { agents: { shadow: { backend: 'codex', model: 'gpt-5', sample: 0.5 } } } : {}) }, { configPath: join(dir, 'oxi.config.json') });
let db: Db;
let browser: Browser | undefined;
const servers: DashboardServer[] = [];

beforeAll(async () => {
  db = openDb(config(true).paths.db);
  seedShadowPairs(db);
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(shadow: boolean) {
  const server = await startDashboard({ db, adapter: config(shadow), token: { value: 'x'.repeat(24), generated: true }, port: 0, pollMs: 100 });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

describe('agent shadow panel', () => {
  it('the snapshot and /api/v1/shadow carry the last pairs, the agreement rate and the cost delta', async () => {
    const base = await serve(true);
    const snap = snapshotSchema.parse(await (await fetch(`${base}/api/v1/snapshot`)).json());
    expect(snap.shadow).toMatchObject({ enabled: true, compared: 2, matched: 1, agreementRate: 0.5, realCostUsd: 1, shadowCostUsd: 1, costDeltaUsd: 0 });
    expect(snap.shadow!.pairs.map((p) => [p.task, p.shape_match, p.costDeltaUsd])).toEqual([['T3', null, null], ['T2', false, 0.25], ['T1', true, -0.25]]);
    expect(snap.shadow!.pairs[1]).toMatchObject({ real: { backend: 'claude', model: 'opus', files: ['a.js'] }, shadow: { backend: 'codex', model: 'gpt-5', status: 'done', files: ['a.js', 'b.js'], checks: 'failure' } });
    const api = await (await fetch(`${base}/api/v1/shadow`)).json();
    expect(api).toEqual(snap.shadow);
    // Switched off later: the pairs recorded so far still show, marked as off.
    const off = snapshotSchema.parse(await (await fetch(`${await serve(false)}/api/v1/snapshot`)).json());
    expect(off.shadow).toMatchObject({ enabled: false, compared: 2 });
  });

  it('the page shows the panel: one row per pair, the agreement rate, the cost delta', async () => {
    const base = await serve(true);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${base}/#list=shadow`);
    const panel = page.getByTestId('panel-shadow');
    await panel.waitFor({ state: 'visible' });
    await expect.poll(() => page.getByTestId('shadow-agreement').textContent(), { timeout: 30_000 }).toBe('agreement 50% (1/2)');
    expect(await page.getByTestId('shadow-cost-delta').textContent()).toBe('cost delta $0.00');
    expect(await page.locator('[data-testid="shadow-pairs"] tbody tr').count()).toBe(3);
    expect(await page.locator('tr[data-task="T2"] td.shape').textContent()).toBe('differ');
    expect(await page.locator('tr[data-task="T1"] td.shape').textContent()).toBe('match');
    expect(await panel.locator('h2').textContent()).toBe('agent shadow');
  });
});
