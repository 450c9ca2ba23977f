/**
 * Figure `dashboard`: the real dashboard (inspector/server.ts) over a real DB of 1,000 live tasks and 100,000
 * ledger rows, with the real engine attached (every effect parked), in real headless Chromium.
 * First paint: page load → every task row in the page. Update: a persisted transition of one task (its
 * commit, in this process) → that task's row showing the new status in the page, through the websocket.
 */
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import { startDashboard } from '../inspector/server.js';
import { appendEvent } from '../src/store/ledger.js';
import { launchChromium } from './browser.js';
import { boot, dropBed, insertTasks, makeBed, median, parkedEffects, quiesce, round, vs, type FigureOptions, type Row } from './fixtures.js';

const KINDS = ['task.planning', 'task.waiting', 'task.provisioning', 'task.working', 'task.shipping', 'spend', 'task.checks', 'task.reviewing'];

/** `rows` ledger rows spread over the tasks, in one transaction, an hour back. */
function seedLedger(db: ReturnType<typeof makeBed>['db'], ids: string[], rows: number): void {
  const t0 = Date.now() - 3_600_000;
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const task = ids[i % ids.length];
      appendEvent(db, { at: t0 + Math.floor((i * 3_600_000) / rows), actor: `task:${task}`, kind: KINDS[i % KINDS.length], task, payload: { from: 'x', event: 'bench', n: i } });
    }
  })();
}

/**
 * Page load → the task rows shown: the list's first page of rows drawn and its count saying all `n` are in
 * flight (epoch ms on both sides: same machine, same clock).
 */
async function firstPaint(page: Page, url: string, n: number): Promise<number> {
  const t0 = performance.timeOrigin + performance.now();
  await page.goto(url, { waitUntil: 'commit' });
  const rowsShown = (count: number) =>
    document.querySelectorAll('#inflight-rows tr.task').length >= Math.min(count, 100) && document.getElementById('count-inflight')?.textContent === String(count) && performance.timeOrigin + performance.now();
  const shown = await page.waitForFunction(rowsShown, n, { polling: 'raf', timeout: 60_000 });
  return ((await shown.jsonValue()) as number) - t0;
}

/** Resolves (in the page) with the epoch time at which `id`'s row first shows `status`. */
function rowShows(page: Page, id: string, status: string) {
  return page.evaluate(
    ([task, want]) =>
      new Promise<number>((resolve) => {
        const hit = () => document.querySelector(`[data-testid="state-${task}"]`)?.textContent === want;
        const observer = new MutationObserver(() => hit() && (observer.disconnect(), resolve(performance.timeOrigin + performance.now())));
        observer.observe(document.body, { subtree: true, childList: true, characterData: true });
      }),
    [id, status] as const,
  );
}

export async function dashboardFigure(opts: FigureOptions) {
  const tasks = 1000;
  const ledgerRows = 100_000;
  const bed = makeBed('dashboard');
  const browser = await launchChromium();
  try {
    opts.progress(`dashboard: seeding ${tasks} tasks and ${ledgerRows} ledger rows`);
    const ids = insertTasks(bed.db, tasks, 'planning');
    seedLedger(bed.db, ids, ledgerRows);
    const handle = boot(bed, parkedEffects());
    await quiesce(handle);
    const server = await startDashboard({ db: bed.db, adapter: bed.adapter, engine: handle, token: { value: 'bench', generated: true }, port: 0, bind: '127.0.0.1' });
    try {
      const paints: number[] = [];
      for (let r = 0; r < (opts.quick ? 3 : 7); r++) {
        const context = await browser.newContext();
        paints.push(await firstPaint(await context.newPage(), server.url, tasks));
        await context.close();
      }
      opts.progress(`dashboard: first paint median ${round(median(paints), 0)} ms; now the updates`);
      const page = await browser.newPage();
      await firstPaint(page, server.url, tasks);
      const updates: number[] = [];
      const visible = await page.evaluate(() => [...document.querySelectorAll('#inflight-rows tr.task')].map((tr) => (tr as HTMLElement).dataset.task!));
      for (let r = 0; r < (opts.quick ? 6 : 20); r++) {
        const id = visible[(r * 7) % visible.length];
        const actor = `task:${id}`;
        for (const [event, status] of [[{ type: 'engine.killed', reason: 'bench', hard: false }, 'held'], [{ type: 'engine.resumed' }, 'planning']] as const) {
          const shown = rowShows(page, id, status);
          let committed = 0;
          const off = handle.onCommit((changes) => changes.some((c) => c.actor === actor) && (committed = performance.timeOrigin + performance.now()));
          handle.send(actor, event);
          const at = await shown;
          off();
          updates.push(at - committed);
        }
      }
      await page.close();
      return {
        tasks,
        ledgerRows,
        firstPaintMs: { median: round(median(paints), 0), all: paints.map((x) => round(x, 0)) },
        updateMs: { median: round(median(updates), 1), max: round(Math.max(...updates), 1), samples: updates.length },
        targets: { firstPaintMs: 1000, updateMs: 100 },
      };
    } finally {
      await server.close();
      await handle.stop();
    }
  } finally {
    await browser.close();
    dropBed(bed);
  }
}

export function dashboardRows(d: Awaited<ReturnType<typeof dashboardFigure>>): Row[] {
  return [
    [`first paint, ${d.tasks} tasks, ${d.ledgerRows} ledger rows (median of ${d.firstPaintMs.all.length})`, `${d.firstPaintMs.median} ms`, '≤ 1 s', vs(d.firstPaintMs.median, 1000)],
    [`   persisted transition → row updated in the page (median of ${d.updateMs.samples})`, `${d.updateMs.median} ms`, '≤ 100 ms', vs(d.updateMs.median, 100)],
  ];
}
