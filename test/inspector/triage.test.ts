/**
 * A triage summary on the dashboard: the snapshot API and the tasks API carry it on the task it explains
 * (and on no other), the overview carries it, and the task page's review tab shows it in a real browser.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../inspector/server.js';
import { appendEvent } from '../../src/store/ledger.js';
import { launchChromium } from '../helpers/browser.js';
import { seedDashboardProject } from '../helpers/dashboard-seed.js';

const SUMMARY = 'The critic found blocked paths (secrets/key.txt) in the change; a human should decide whether that file belongs in it.';
let browser: Browser | undefined;
let seed: ReturnType<typeof seedDashboardProject>;
let server: DashboardServer;

beforeAll(async () => {
  seed = seedDashboardProject();
  const { db } = seed;
  // T0-1 parks for a human, and its stop gets a summary (as the triage writes it).
  db.prepare(`UPDATE tasks SET status='awaiting_human' WHERE id='T0-1'`).run();
  appendEvent(db, { at: seed.T0 + 30 * 60_000, actor: 'task:T0-1', kind: 'task.awaiting_human', task: 'T0-1', payload: { from: 'reviewing', event: 'xstate.done.actor.critique' } });
  const stop = (db.prepare(`SELECT MAX(id) AS id FROM event WHERE kind='task.awaiting_human'`).get() as { id: number }).id;
  appendEvent(db, { at: seed.T0 + 31 * 60_000, actor: 'triage', kind: 'task.triage', task: 'T0-1', payload: { event: stop, status: 'awaiting_human', summary: SUMMARY, model: 'm', costUsd: 0.001, costSource: 'usage.total_cost' } });
  server = await startDashboard({ db, adapter: seed.adapter, token: { value: 't'.repeat(24), generated: true }, port: 0, pollMs: 100 });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  seed?.cleanup();
});

const json = async (path: string) => (await fetch(`${server.url.replace(/\/$/, '')}${path}`)).json();

describe('triage on the dashboard', () => {
  it('the snapshot, the tasks API and the overview carry the summary on its task only', async () => {
    const snapshot = await json('/api/v1/snapshot');
    const byId = Object.fromEntries(snapshot.tasks.map((t: { id: string }) => [t.id, t]));
    expect(byId['T0-1']).toMatchObject({ status: 'awaiting_human', triage: SUMMARY });
    for (const id of Object.keys(byId).filter((k) => k !== 'T0-1')) expect(byId[id]).not.toHaveProperty('triage');
    const tasks = await json('/api/v1/tasks');
    expect(tasks.tasks.find((t: { id: string }) => t.id === 'T0-1').triage).toBe(SUMMARY);
    expect((await json('/api/v1/tasks/T0-1')).triage).toBe(SUMMARY);
    expect((await json('/api/v1/tasks/T0-1/overview')).triage).toBe(SUMMARY);
    expect(await json('/api/v1/tasks/T0-2/overview')).not.toHaveProperty('triage');
  });

  it('the task page shows it in the review tab', { timeout: 180_000 }, async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    page.setDefaultTimeout(90_000);
    await page.goto(`${server.url}#task=T0-1&tab=review`);
    await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent === 'live');
    await page.waitForFunction((s) => document.querySelector('[data-testid="triage"]')?.textContent === s, SUMMARY);
    await page.close();
  });
});
