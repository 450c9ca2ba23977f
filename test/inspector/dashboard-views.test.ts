import { appendFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../inspector/server.js';
import { launchChromium } from '../helpers/browser.js';
import { line, seedDashboardProject } from '../helpers/dashboard-seed.js';

let browser: Browser;
let seed: ReturnType<typeof seedDashboardProject>;
let server: DashboardServer;
const pages: Page[] = [];

beforeAll(async () => {
  seed = seedDashboardProject();
  server = await startDashboard({ db: seed.db, adapter: seed.adapter, token: { value: 't'.repeat(24), generated: true }, port: 0, pollMs: 100 });
  browser = await launchChromium();
});
afterAll(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  seed?.cleanup();
});

async function open(hash: string, width = 1500): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 950 } });
  pages.push(page);
  // A loaded machine parses the layout library and lays out slowly: wait for conditions, generously.
  page.setDefaultTimeout(90_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(`${server.url}#${hash}`);
  await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent === 'live');
  await page.waitForFunction(() => document.querySelectorAll('tr.task').length > 0);
  return page;
}
const errorsOf = (page: Page) => (page as Page & { errors: string[] }).errors;

/** Elements of the page sticking out of the viewport on the right (scrolling containers aside). */
const clipped = (page: Page) =>
  page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > window.innerWidth + 1 && !e.closest('.patch-wrap, svg');
  }).map((e) => `${e.tagName}.${e.className}`).slice(0, 5));

describe('dashboard task views in a real browser', () => {
  it('diff tab: the files between base and head with their scope verdicts, patches coloured by syntax', async () => {
    const page = await open('task=T0-1&tab=diff');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="diff-files"] tbody tr').length === 4);
    const scope = (path: string) => page.locator(`[data-testid="scope-${path}"]`).textContent();
    expect(await scope('secrets/key.txt')).toBe('blocked');
    expect(await scope('.github/workflows/ci.yml')).toBe('protected');
    expect(await scope('docs/notes.md')).toBe('sensitive');
    expect(await scope('src/value.js')).toBe('ok');
    const js = page.locator('details.file[data-path="src/value.js"] table.patch[data-lang="js"]');
    expect(await js.locator('.tok-k').allTextContents()).toContain('const');
    expect(await js.locator('.tok-s').allTextContents()).toContain("'two'");
    expect(await js.locator('.tok-c').allTextContents()).toContain('// the value');
    expect(await js.locator('tr.del').count()).toBe(1);
    expect(await js.locator('tr.add').count()).toBe(3);
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it('transcript tab grows live while the agent stream file is appended, tool results folded into their calls', async () => {
    const page = await open('task=T0-1&tab=transcript');
    await page.waitForFunction(() => document.querySelector('[data-testid="transcript"] li.tool[data-tool="tu1"] .result')?.textContent === 'running…');
    await page.evaluate(() => ((window as any).sameDocument = true));
    appendFileSync(seed.stream, line({ type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'tu1', content: 'value: 1', is_error: false }] } }));
    await page.waitForFunction(() => document.querySelector('li.tool[data-tool="tu1"] .result')?.textContent === 'value: 1');
    appendFileSync(seed.stream, line({ type: 'assistant', message: { content: [{ type: 'text', text: 'Now the fix' }] } }) + line({ type: 'result', is_error: true, subtype: 'error_max_turns', total_cost_usd: 0.5, permission_denials: [{ tool_name: 'Bash', tool_input: { command: 'curl example.com' } }] }));
    await page.waitForFunction(() => document.querySelector('[data-testid="denial"]')?.textContent?.includes('curl example.com'));
    const kinds = await page.locator('[data-testid="transcript"] > li').evaluateAll((lis) => lis.map((l) => l.className));
    expect(kinds).toEqual(['session', 'text', 'tool', 'text', 'denial', 'result-line error']);
    expect(await page.evaluate(() => (window as any).sameDocument)).toBe(true);
    // The tool's input is folded, secrets redacted.
    expect(await page.locator('li.tool[data-tool="tu1"] .input').textContent()).toContain('[redacted]');
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it('timeline: every task of the last 24 h on a time axis, rounds and the fix loop marked; one task with durations', async () => {
    const page = await open('list=timeline');
    await page.waitForFunction(() => document.querySelectorAll('.tl-row[data-task="T0-1"] .seg').length === 12);
    expect(await page.locator('.tl-row[data-task="T0-1"] .seg.fix').count()).toBe(1);
    expect(await page.locator('.tl-row[data-task="T0-1"] .seg.round').count()).toBe(2);
    expect(await page.locator('.tl-row[data-task="T0-1"] .tl-label').textContent()).toContain('2 rounds · 1 fix');
    await page.locator('.tl-row[data-task="T0-1"]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="timeline-segments"] tbody tr').length === 12);
    expect(new URL(page.url()).hash).toContain('task=T0-1');
    expect(new URL(page.url()).hash).toContain('tab=timeline');
    expect(await page.locator('[data-testid="timeline-segments"] tr[data-state="working"] td').nth(4).first().textContent()).toBe('6m 00s');
    await page.close();
  });

  it('search, filters and sort live in the URL: a fresh page with that URL shows the same selection', async () => {
    const page = await open('');
    await page.getByTestId('filter-q').fill('nothing');
    await page.waitForFunction(() => [...document.querySelectorAll('#inflight-rows tr')].map((r) => r.getAttribute('data-task')).join() === 'T0-2');
    expect(await page.getByTestId('filter-count').textContent()).toBe('1 of 3 tasks shown');
    await page.getByTestId('filter-q').fill('');
    await page.getByTestId('filter-status').selectOption('reviewing');
    await page.waitForFunction(() => [...document.querySelectorAll('#inflight-rows tr')].map((r) => r.getAttribute('data-task')).join() === 'T0-1');
    await page.getByTestId('filter-clear').click();
    await page.locator('#inflight-head th[data-sort="id"]').click();
    await page.locator('#inflight-head th[data-sort="id"]').click();
    await page.waitForFunction(() => [...document.querySelectorAll('#inflight-rows tr')].map((r) => r.getAttribute('data-task')).join() === 'T0-2,T0-1');
    await page.getByTestId('filter-q').fill('T0');
    await page.locator('tr.task[data-task="T0-1"]').click();
    await page.getByTestId('dtab-review').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="first-failure"]')?.textContent?.startsWith('not ok 2 - value is 2'));
    const hash = new URL(page.url()).hash;
    for (const part of ['q=T0', 'sort=id', 'dir=desc', 'task=T0-1', 'tab=review']) expect(hash).toContain(part);
    const again = await open(hash.slice(1));
    await again.waitForFunction(() => document.querySelector('[data-testid="cost-by-role"]')?.textContent?.includes('worker$0.75'));
    expect(await again.locator('#inflight-rows tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task')))).toEqual(['T0-2', 'T0-1']);
    expect(await again.getByTestId('filter-q').inputValue()).toBe('T0');
    expect(await again.locator('tr.task.selected').getAttribute('data-task')).toBe('T0-1');
    expect(await again.getByTestId('dtab-review').getAttribute('aria-selected')).toBe('true');
    await page.close();
    await again.close();
  });

  it('statechart: laid out by ELK, grouped by phase, no two labels overlap, current state highlighted, the root is engine', async () => {
    const page = await open('task=T0-1');
    await page.waitForSelector('[data-testid="statechart"] svg[data-machine="task"] .edge text', { timeout: 60_000 });
    await page.getByTestId('zoom-fit').click();
    expect(await page.locator('[data-testid="statechart"] g.node.leaf[data-active="true"]').evaluateAll((n) => n.map((x) => x.getAttribute('data-key')))).toEqual(['reviewing']);
    const phases = await page.locator('[data-testid="statechart"] g.group').evaluateAll((g) => g.map((x) => x.getAttribute('data-phase')));
    expect(phases).toEqual(expect.arrayContaining(['planning', 'working', 'checks', 'review', 'merge']));
    const overlaps = (p: Page) => p.evaluate(() => {
      const boxes = [...document.querySelectorAll('[data-testid="statechart"] svg text')].map((t) => ({ t: t.textContent, r: t.getBoundingClientRect() }));
      const out: string[] = [];
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) out.push(`${boxes[i].t} × ${boxes[j].t}`);
      }
      return { n: boxes.length, out };
    });
    const task = await overlaps(page);
    expect(task.n).toBeGreaterThan(40);
    expect(task.out).toEqual([]);
    // Zoom changes the view, not the layout.
    const before = await page.locator('[data-testid="statechart"] svg').getAttribute('viewBox');
    await page.getByTestId('zoom-in').click();
    expect(await page.locator('[data-testid="statechart"] svg').getAttribute('viewBox')).not.toBe(before);
    // The root actor is named engine (a database from before the name still says x:0).
    const actors = await page.locator('[data-testid="actor-select"] option').allTextContents();
    expect(actors).toContain('engine');
    expect(actors).not.toContain('x:0');
    await page.getByTestId('actor-select').selectOption('engine');
    await page.waitForSelector('[data-testid="statechart"] svg[data-machine="engine"] g.node', { timeout: 60_000 });
    expect((await overlaps(page)).out).toEqual([]);
    expect(new URL(page.url()).hash).toContain('actor=engine');
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  for (const width of [900, 2560]) {
    it(`at ${width} px nothing is clipped: lists, diff, review with long logs, activity with long JSON`, async () => {
      const page = await open('task=T0-1&tab=diff', width);
      await page.waitForFunction(() => document.querySelectorAll('details.file').length === 4);
      expect(await clipped(page)).toEqual([]);
      await page.getByTestId('dtab-review').click();
      await page.getByTestId('checks-log').locator('summary').click();
      expect(await clipped(page)).toEqual([]);
      await page.getByTestId('tab-activity').click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="ledger"] li').length > 5);
      await page.locator('[data-testid="ledger"] details.json summary').first().click();
      expect(await clipped(page)).toEqual([]);
      await page.getByTestId('tab-completed').click();
      expect(await page.locator('#completed-rows td.title').textContent()).toMatch(/very long title/);
      expect(await clipped(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.close();
    });
  }

  it('retry is offered in pr_backoff; a local-forge PR link opens its rendered page', async () => {
    seed.db.prepare(`UPDATE tasks SET status='pr_backoff', updated_at=updated_at+1 WHERE id='T0-2'`).run();
    const page = await open('');
    await page.getByTestId('retry-T0-2').click();
    await page.waitForFunction(() => /retry T0-2 refused \(401\)/.test(document.querySelector('[data-testid="notice"]')?.textContent ?? ''));
    const [pr] = await Promise.all([page.waitForEvent('popup'), page.locator('tr.task[data-task="T0-1"] a', { hasText: '#1' }).click()]);
    await pr.waitForSelector('[data-testid="pr-page"]');
    expect(await pr.getByTestId('pr-checks').textContent()).toBe('failure');
    expect(await pr.title()).toContain('Change the value <b>');
    await pr.close();
    await page.close();
  });
});
