/**
 * Regenerates the dashboard pictures in docs/ from a real demo run: `npm run screenshots`.
 * A sample project runs under `oxi demo` (scripted agents, local forge); the overview is taken
 * while tasks are in flight, the task views once every task is merged, from `oxi dashboard`.
 * Slow (minutes), so it is not part of the test suite; the images it writes are committed.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.js';
import { ROOT, sampleProject, spawnOxi, waitFor } from '../test/helpers/project.js';

const DOCS = join(ROOT, 'docs');
const URL_RE = /dashboard on (http:\/\/127\.0\.0\.1:\d+\/)#token=([\w-]+)/;

async function shot(page: Page, hash: string, ready: string, file: string): Promise<void> {
  await page.goto(`${page.url().split('#')[0]}#${hash}`);
  await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent === 'live');
  await page.waitForSelector(ready, { timeout: 180_000 });
  await page.screenshot({ path: join(DOCS, file) });
  process.stdout.write(`wrote docs/${file}\n`);
}

const p = sampleProject({
  tasks: 5,
  script: (s) => Object.values(s.tasks).forEach((t, i) => Object.assign(t, i === 1 ? { behaviour: 'fail_first' } : { behaviour: 'slow', delayMs: 6000 + i * 2000 })),
  config: (c) => Object.assign(c, { engine: { ...c.engine, dashboard: { port: 0 }, prWatchIntervalMs: 300 } }),
});
const browser = await launchChromium();
const demo = spawnOxi(['demo', '--dir', p.dir]);
let dashboard: ReturnType<typeof spawnOxi> | undefined;
try {
  const [, url, token] = await waitFor<RegExpExecArray>('the demo dashboard', () => URL_RE.exec(demo.output()) ?? undefined, 120_000);
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.setDefaultTimeout(180_000);
  await page.goto(`${url}#token=${token}`);
  // The overview while work is in flight: a live task's statechart, laid out, its state lit.
  const first = p.ids[0];
  await page.goto(`${url}#task=${first}`);
  await page.waitForSelector('[data-testid="statechart"] svg[data-machine="task"]:not([data-interim])');
  const live = await page.waitForFunction(() => document.querySelector('#inflight-rows tr.task[data-status="working"], #inflight-rows tr.task[data-status="checks"], #inflight-rows tr.task[data-status="planning"]')?.getAttribute('data-task'));
  await shot(page, `task=${await live.jsonValue()}`, '[data-testid="statechart"] svg[data-machine="task"]:not([data-interim]) g.node.leaf[data-active="true"]', 'dashboard.png');
  await demo.exited;
  dashboard = spawnOxi(['--config', p.configPath, 'dashboard', '--port', '0']);
  const [, url2] = await waitFor<RegExpExecArray>('the dashboard', () => URL_RE.exec(dashboard!.output()) ?? undefined, 60_000);
  await page.goto(url2);
  await shot(page, `task=${first}&tab=diff&list=completed`, 'details.file', 'dashboard-diff.png');
  await shot(page, `task=${first}&tab=transcript&list=completed`, '[data-testid="transcript"] li.tool', 'dashboard-transcript.png');
  await shot(page, `list=timeline&task=${p.ids[1]}&tab=timeline`, '.tl-row .seg', 'dashboard-timeline.png');
  await page.setViewportSize({ width: 900, height: 1100 });
  await shot(page, `list=completed&task=${first}&tab=review`, '[data-testid="cost-by-role"]', 'dashboard-narrow.png');
} finally {
  await browser.close();
  demo.kill('SIGKILL');
  dashboard?.kill('SIGKILL');
  p.cleanup();
}
