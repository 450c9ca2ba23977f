/**
 * The snapshot API and the dashboard with several repositories: `repo` on every task, each
 * repository's counts and spend, `<repo>/<id>` in the lists and each one's spend in the header
 * (a real server, a real database, a real headless Chromium).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../inspector/server.js';
import { snapshotSchema } from '../../inspector/snapshot.js';
import { validateConfig } from '../../src/config/validate.js';
import { openDb, type Db } from '../../src/store/db.js';
import { appendEvent } from '../../src/store/ledger.js';
import { ingestItems } from '../../src/store/tasks.js';
import { launchChromium } from '../helpers/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-dash-multi-'));
for (const r of ['product', 'engine', 'one']) mkdirSync(join(dir, r));
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' }).trim();
// Both repositories are real: the same change is on a task ref of each, src/core/ is sensitive only in engine.
for (const r of ['product', 'engine']) {
  const cwd = join(dir, r);
  git(cwd, 'init', '-q', '-b', 'main');
  writeFileSync(join(cwd, 'README.md'), `# ${r}\n`);
  git(cwd, 'add', '-A');
  git(cwd, 'commit', '-qm', 'init');
  git(cwd, 'checkout', '-qb', 'work');
  mkdirSync(join(cwd, 'src', 'core'), { recursive: true });
  writeFileSync(join(cwd, 'src', 'core', 'x.js'), 'export const x = 1;\n');
  git(cwd, 'add', '-A');
  git(cwd, 'commit', '-qm', 'change');
  git(cwd, 'update-ref', `refs/oxi/tasks/${r}/T0-1`, 'HEAD');
  git(cwd, 'checkout', '-q', 'main');
}
const TOKEN = { value: 'test-token-0123456789abcdef', generated: true };
const multi = validateConfig(
  {
    name: 'acme',
    budget: { dailyHardUsd: 40 },
    repos: [
      { name: 'product', path: 'product' },
      { name: 'engine', path: 'engine', forge: { kind: 'github', owner: 'acme', name: 'engine' }, scope: { sensitive: ['src/core/'] }, budget: { dailyHardUsd: 10 } },
    ],
  },
  { configPath: join(dir, 'oxi.config.json') },
);
const single = validateConfig({ name: 'widgets', repo: { path: 'one' }, paths: { stateDir: 'one-state' } }, { configPath: join(dir, 'oxi.config.json') });
let db: Db;
let singleDb: Db;
const servers: DashboardServer[] = [];
let browser: Browser | undefined;

// Spend "today" is per UTC day: the rows are written on the day the check runs (a run can cross midnight).
let spentOn: number | undefined;
function spendToday(now = Date.now()): void {
  const day = Math.floor(now / 86_400_000);
  if (spentOn === day) return;
  spentOn = day;
  appendEvent(db, { at: now, actor: 'task:product/T0-1', kind: 'spend', task: 'product/T0-1', payload: { usd: 1.5, task: 'product/T0-1' } });
  appendEvent(db, { at: now, actor: 'task:engine/T0-1', kind: 'spend', task: 'engine/T0-1', payload: { usd: 0.75, task: 'engine/T0-1' } });
}

beforeAll(() => {
  db = openDb(multi.paths.db);
  const now = Date.now();
  ingestItems(db, [
    { id: 'product/T0-1', repo: 'product', tier: 0, title: 'Product first', description: '', seq: 1 },
    { id: 'engine/T0-1', repo: 'engine', tier: 0, title: 'Engine first', description: '', seq: 1 },
    { id: 'engine/T0-2', repo: 'engine', tier: 0, title: 'Engine second', description: '', seq: 2 },
  ], now);
  db.prepare(`UPDATE tasks SET status='working', host='local' WHERE id='engine/T0-1'`).run();
  db.prepare(`UPDATE tasks SET status='merged', pr=4 WHERE id='product/T0-1'`).run();
  db.prepare(`UPDATE tasks SET pr=9 WHERE id='engine/T0-2'`).run();
  spendToday(now);
  singleDb = openDb(single.paths.db);
  ingestItems(singleDb, [{ id: 'T0-1', repo: 'widgets', tier: 0, title: 'Only', description: '', seq: 1 }], now);
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers.splice(0)) await s.close();
  db?.close();
  singleDb?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(which: 'multi' | 'single') {
  const server = await startDashboard({ db: which === 'multi' ? db : singleDb, adapter: which === 'multi' ? multi : single, token: TOKEN, port: 0, pollMs: 50 });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

describe('snapshot API with several repositories', () => {
  it('every task has its repo, ids read <repo>/<id>, and each repository has its counts, spend and cap', async () => {
    spendToday();
    const base = await serve('multi');
    const snap = snapshotSchema.parse(await (await fetch(`${base}/api/v1/snapshot`)).json());
    expect(snap.tasks.map((t) => [t.id, t.repo]).sort()).toEqual([['engine/T0-1', 'engine'], ['engine/T0-2', 'engine'], ['product/T0-1', 'product']]);
    expect(snap.repos).toEqual([
      { name: 'product', counts: { merged: 1 }, todayUsd: 1.5, dailyHardUsd: 40 },
      { name: 'engine', counts: { queued: 1, working: 1 }, todayUsd: 0.75, dailyHardUsd: 10 },
    ]);
    expect(snap.spend.today).toBe(2.25);
    // The task list and one task (its id percent-encoded: it holds a slash) say the same.
    const list = (await (await fetch(`${base}/api/v1/tasks?phase=in_flight`)).json()) as { tasks: Array<{ id: string; repo: string }> };
    expect(list.tasks.map((t) => [t.id, t.repo])).toEqual([['engine/T0-1', 'engine']]);
    const one = (await (await fetch(`${base}/api/v1/tasks/${encodeURIComponent('engine/T0-2')}`)).json()) as { id: string; repo: string };
    expect(one).toMatchObject({ id: 'engine/T0-2', repo: 'engine' });
  });

  it('a task\'s PR link and diff are its own repository\'s: its forge, its clone, its scope policy', async () => {
    const base = await serve('multi');
    const snap = snapshotSchema.parse(await (await fetch(`${base}/api/v1/snapshot`)).json());
    const pr = Object.fromEntries(snap.tasks.map((t) => [t.id, t.pr?.url ?? null]));
    expect(pr).toEqual({ 'product/T0-1': '/prs/4', 'engine/T0-2': 'https://github.com/acme/engine/pull/9', 'engine/T0-1': null });
    const diff = async (id: string) => (await (await fetch(`${base}/api/v1/tasks/${encodeURIComponent(id)}/diff`)).json()) as { files: Array<{ path: string; scope: { verdict: string } }>; source: string };
    const engine = await diff('engine/T0-1');
    const product = await diff('product/T0-1');
    expect(engine.source).toBe('ref');
    expect(engine.files.map((f) => [f.path, f.scope.verdict])).toEqual([['src/core/x.js', 'sensitive']]);
    expect(product.files.map((f) => [f.path, f.scope.verdict])).toEqual([['src/core/x.js', 'ok']]);
  });

  it('one repository: repo is the adapter\'s name on every task, one repos entry, no cap of its own', async () => {
    const base = await serve('single');
    const snap = snapshotSchema.parse(await (await fetch(`${base}/api/v1/snapshot`)).json());
    expect(snap.tasks.map((t) => [t.id, t.repo])).toEqual([['T0-1', 'widgets']]);
    expect(snap.repos).toEqual([{ name: 'widgets', counts: { queued: 1 }, todayUsd: 0, dailyHardUsd: null }]);
  });
});

describe('the dashboard with several repositories (Chromium)', () => {
  it('lists tasks as <repo>/<id> and shows each repository\'s spend today (and a tighter cap) in the header', async () => {
    spendToday();
    const base = await serve('multi');
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    page.setDefaultTimeout(90_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await page.waitForFunction(() => document.querySelectorAll('tr.task').length === 3);
    const ids = await page.locator('tr.task td.id').allTextContents();
    expect(ids.sort()).toEqual(['engine/T0-1', 'engine/T0-2', 'product/T0-1']);
    expect(await page.locator('tr.task[data-task="engine/T0-1"] td.id').getAttribute('data-repo')).toBe('engine');
    expect(await page.locator('[data-testid="repo-spend"]').textContent()).toBe('product $1.5 · engine $0.75 / $10.00');
    expect(errors).toEqual([]);
    await page.close();
  });
});
