import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../inspector/server.js';
import { validateConfig } from '../../src/config/validate.js';
import { setKill } from '../../src/runtime/killswitch.js';
import { openDb } from '../../src/store/db.js';
import { ingestItems } from '../../src/store/tasks.js';
import { launchChromium } from '../helpers/browser.js';
import { oxi, query, ROOT, sampleProject, spawnOxi, waitFor } from '../helpers/project.js';

let browser: Browser;
beforeAll(async () => (browser = await launchChromium()));
afterAll(async () => browser?.close());

const text = (page: Page, testId: string) => page.locator(`[data-testid="${testId}"]`).textContent();

/** Records every text a cell shows, as it changes, inside the page (no reloads, no polling from here). */
async function watchText(page: Page, selector: string, name: string): Promise<void> {
  await page.evaluate(([sel, key]) => {
    const seen: string[] = ((window as any)[key] = []);
    const look = () => {
      const t = document.querySelector(sel)?.textContent ?? null;
      if (t && seen[seen.length - 1] !== t) seen.push(t);
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
    look();
  }, [selector, name] as const);
}
const seenTexts = (page: Page, name: string) => page.evaluate((key) => (window as any)[key] as string[], name);

describe('dashboard in a real browser', () => {
  it('follows a demo run live: tabs, a task moving through states, its statechart, a CLI kill, a refused action', async () => {
    const p = sampleProject({
      tasks: 3,
      script: (s) => Object.values(s.tasks).forEach((t) => Object.assign(t, { behaviour: 'slow', delayMs: 1500 })),
      config: (c) => Object.assign(c, { engine: { ...c.engine, dashboard: { port: 0 }, prWatchIntervalMs: 300 } }),
    });
    const demo = spawnOxi(['demo', '--dir', p.dir, '--inspect']);
    try {
      const [, url, token] = await waitFor<RegExpExecArray>('the dashboard URL', () => /dashboard on (http:\/\/127\.0\.0\.1:\d+\/)#token=([\w-]+)/.exec(demo.output()) ?? undefined);
      const first = p.ids[0];
      const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}#token=${token}`);
      await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent === 'live');
      // The first snapshot follows the connection (its sandbox probe runs once per process).
      await page.waitForFunction(() => (document.querySelector('[data-testid="project"]')?.textContent ?? '') !== '');
      expect(await text(page, 'project')).toBe('demo');
      expect(await text(page, 'engine-state')).toBe('running');
      expect(page.url()).not.toContain(token); // the token leaves the address bar at once
      await watchText(page, `[data-testid="state-${first}"]`, 'seenStates');

      // The statechart of the selected task highlights the state its row shows, while it works.
      await page.locator(`tr[data-task="${first}"]`).click();
      await page.waitForFunction((id) => {
        const row = document.querySelector(`[data-testid="state-${id}"]`)?.textContent;
        const active = [...document.querySelectorAll('[data-testid="statechart"] g.node.leaf[data-active="true"]')].map((n) => n.getAttribute('data-key'));
        return row === 'working' && active.length === 1 && active[0] === 'working';
      }, first, { timeout: 30_000 });
      expect(await page.locator('[data-testid="statechart"] g.node[data-key="planning"]').getAttribute('data-active')).toBe('false');
      expect(await page.locator('[data-testid="journal"] li').count()).toBeGreaterThan(0);
      mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
      const shot = join(ROOT, 'test-artifacts', 'dashboard.png');
      // The README's pictures come from `npm run screenshots`; this one is for looking at a failed run.
      await page.screenshot({ path: shot });

      // The three tabs.
      await page.getByTestId('tab-activity').click();
      expect(await page.getByTestId('panel-activity').isVisible()).toBe(true);
      expect(await page.getByTestId('panel-inflight').isVisible()).toBe(false);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="ledger"] li').length > 3);
      await page.getByTestId('tab-completed').click();
      expect(await page.getByTestId('panel-completed').isVisible()).toBe(true);
      expect(await page.getByTestId('panel-activity').isVisible()).toBe(false);
      await page.getByTestId('tab-inflight').click();
      expect(await page.getByTestId('panel-inflight').isVisible()).toBe(true);

      // An action without the token is refused, visibly, and changes nothing.
      const anonymous = await browser.newPage();
      await anonymous.goto(url);
      await anonymous.getByTestId('kill').click();
      await anonymous.getByTestId('kill-reason').fill('no token here');
      await anonymous.getByTestId('kill-confirm').click();
      await anonymous.waitForFunction(() => /kill refused \(401\)/.test(document.querySelector('[data-testid="notice"]')?.textContent ?? ''));
      expect(query<{ killed: number }>(p.db, 'SELECT killed FROM engine_state')[0].killed).toBe(0);
      await anonymous.close();

      // A kill from the CLI reaches the header by itself (the feed polls every 250 ms; no reload).
      const killed = oxi(['--config', p.configPath, 'kill', '--reason', 'e2e kill']);
      expect(killed.code, killed.stderr).toBe(0);
      await page.waitForFunction(() => document.querySelector('[data-testid="engine-state"]')?.textContent === 'killed: e2e kill');

      // Unkill from the page, with the token: the run finishes.
      await page.getByTestId('unkill').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="engine-state"]')?.textContent === 'running');
      expect(query<{ killed: number }>(p.db, 'SELECT killed FROM engine_state')[0].killed).toBe(0);
      await waitFor('every task merged', () => query<{ n: number }>(p.db, `SELECT COUNT(*) AS n FROM tasks WHERE status='merged'`)[0]?.n === 3, 90_000);
      await page.waitForFunction((id) => document.querySelector(`[data-testid="state-${id}"]`)?.textContent === 'merged', first);

      // The row moved through the lifecycle in front of us, in order.
      const seen = await seenTexts(page, 'seenStates');
      expect(seen.length, seen.join(' → ')).toBeGreaterThanOrEqual(4);
      expect(seen.indexOf('working'), seen.join(' → ')).toBeGreaterThanOrEqual(0);
      expect(seen.indexOf('working')).toBeLessThan(seen.lastIndexOf('merged'));
      expect(seen.at(-1)).toBe('merged');
      // The inspection stream of the run reached the page.
      expect(Number((await text(page, 'inspection-status'))?.split(' ')[0])).toBeGreaterThan(5);
      expect(errors).toEqual([]);
      expect(await demo.exited).toBe(0);
      await page.close();
    } finally {
      demo.kill('SIGKILL');
      p.cleanup();
    }
  }, 240_000);

  it('reconnects by itself after the server drops its socket, and keeps updating', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oxi-dash-b-'));
    const adapter = validateConfig({ name: 'recon' }, { configPath: join(dir, 'oxi.config.json') });
    const db = openDb(adapter.paths.db);
    ingestItems(db, [{ id: 'T0-1', repo: 'recon', tier: 0, title: 'One', description: '', seq: 1 }], Date.now());
    const server = await startDashboard({ db, adapter, token: { value: 'x'.repeat(24), generated: true }, port: 0, pollMs: 100 });
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent === 'live');
      await watchText(page, '[data-testid="connection"]', 'seenConn');
      server.dropPages();
      await page.waitForFunction(() => ((window as any).seenConn as string[]).join(',').includes('reconnecting,live'));
      setKill(db, adapter.paths.stateDir, { reason: 'after reconnect', by: 'test', hard: false, at: Date.now() });
      await page.waitForFunction(() => document.querySelector('[data-testid="engine-state"]')?.textContent === 'killed: after reconnect');
      await page.close();
    } finally {
      await server.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
