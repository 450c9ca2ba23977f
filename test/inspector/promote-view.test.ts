import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../inspector/server.js';
import { snapshotSchema } from '../../inspector/snapshot.js';
import { validateConfig } from '../../src/config/validate.js';
import { openDb, type Db } from '../../src/store/db.js';
import { appendEvent } from '../../src/store/ledger.js';
import { launchChromium } from '../helpers/browser.js';
import { makeRepo, type TestRepo } from '../helpers/git-repo.js';

let repo: TestRepo;
let db: Db;
let server: DashboardServer;
let browser: Browser | undefined;

beforeAll(async () => {
  repo = makeRepo();
  const adapter = validateConfig({ name: 'promoteview', repo: { path: repo.dir }, promote: { command: ['./promote.sh'], schedule: 'daily 03:00', enabled: true } }, { configPath: join(repo.dir, 'oxi.config.json') });
  db = openDb(adapter.paths.db);
  const run = (at: number, ok: boolean, exitCode: number) =>
    appendEvent(db, { at, actor: 'promoter:default', kind: 'promote.run', payload: { name: 'default', repo: 'default', trigger: 'schedule', ok, exitCode, signal: null, durationMs: 1500, summary: `exit ${exitCode}`, outputTail: ok ? 'done\n' : 'migration pending\n', mergeId: 0 } });
  run(Date.UTC(2026, 2, 9, 3), true, 0);
  run(Date.UTC(2026, 2, 10, 3), false, 3);
  server = await startDashboard({ db, adapter, token: { value: 't'.repeat(24), generated: true }, port: 0, pollMs: 100 });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  db?.close();
  repo?.cleanup();
});

describe('the dashboard\'s promote section', () => {
  it('the snapshot lists each recipe with its last runs, newest first; /api/v1/promote adds the output tails', async () => {
    const snap = snapshotSchema.parse(await (await fetch(`http://127.0.0.1:${server.port}/api/v1/snapshot`)).json());
    expect(snap.promote?.recipes).toEqual([
      expect.objectContaining({ name: 'default', schedule: 'daily 03:00', enabled: true, command: ['./promote.sh'], runs: [expect.objectContaining({ ok: false, exitCode: 3, summary: 'exit 3' }), expect.objectContaining({ ok: true, exitCode: 0 })] }),
    ]);
    expect(snap.promote!.recipes[0]!.runs[0]).not.toHaveProperty('outputTail');
    const api = await (await fetch(`http://127.0.0.1:${server.port}/api/v1/promote`)).json();
    expect(api.recipes[0].runs[0].outputTail).toBe('migration pending\n');
  });

  it('the page shows it, a failed run marked', async () => {
    browser = await launchChromium();
    const page = await browser.newPage();
    page.setDefaultTimeout(90_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => document.querySelector('[data-promote="default"]')?.textContent?.includes('FAILED (exit 3)'));
    expect(await page.locator('[data-promote="default"] .fail').count()).toBe(1);
    expect(await page.locator('[data-promote="default"] .ok').count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
