/**
 * Shadow runs (agents.shadow) in the daily budget's reservation: every shadow recorded as running may still spend
 * its per-task cap, so the global gate and its repository's gate reserve it like a task in flight, and one that
 * ended reserves nothing. The real gates over a real SQLite file, the shadows as the pair table records them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adapterForRepo } from '../../src/config/repos.js';
import { validateConfig } from '../../src/config/validate.js';
import { dailyBudgetGate, repoBudgetGate, shadowBudgetRefusal } from '../../src/dispatch/budget.js';
import { openDb, type Db } from '../../src/store/db.js';
import { appendEvent } from '../../src/store/ledger.js';
import { claimShadowPair, recordShadowSide } from '../../src/store/shadow.js';
import { ingestItems } from '../../src/store/tasks.js';
import { JumpClock } from '../helpers/jump-clock.js';

const cleanups: Array<() => unknown> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

function db(): Db {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-budget-shadow-'));
  const d = openDb(join(dir, 'oxi.db'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => d.close());
  return d;
}

/** A shadow of `task`'s first session, recorded as running (as `runShadow` claims it). */
function shadowRunning(d: Db, task: string, attempt = 0): number {
  const id = claimShadowPair(d, { task, attempt, fix: 0, startSha: 'a'.repeat(40), workspace: `/w/${task}-${attempt}`, host: 'local', realBackend: 'claude', realModel: null, shadowBackend: 'claude', shadowModel: null, at: Date.now() });
  if (id === undefined) throw new Error(`expected a fresh shadow pair for ${task}/${attempt}`);
  return id;
}

function ended(d: Db, id: number, status: 'done' | 'interrupted'): void {
  recordShadowSide(d, id, { status, outcome: status === 'done' ? 'ok' : null, error: null, files: null, costUsd: 0, checks: null, at: Date.now() });
}

const budget = { perTaskUsd: 1, dailySoftUsd: 4, dailyHardUsd: 5 };

describe('the hard stop says why', () => {
  it('a refusal for the sessions in flight says so, with what is spent and reserved; spend over the cap says reached', () => {
    const titles: string[] = [];
    const notifier = { notify: async (m: { title: string }) => void titles.push(m.title) };
    const d = db();
    const now = Date.now();
    appendEvent(d, { at: now, actor: 'engine', kind: 'spend', payload: { usd: 3 } });
    const gate = dailyBudgetGate({ db: d, clock: new JumpClock(now), budget, notifier, reservedUsd: () => 3 * budget.perTaskUsd });
    expect(gate()).toMatchObject({ exceeded: true, spentToday: 3 });
    expect(titles[titles.length - 1]).toMatch(/^Daily hard budget cap would be passed by the sessions in flight: \$3\.00 spent \+ \$3\.00 reserved, of \$5; no new agent starts until /);
    const over = db();
    appendEvent(over, { at: now, actor: 'engine', kind: 'spend', payload: { usd: 5.5 } });
    const titlesBefore = titles.length;
    dailyBudgetGate({ db: over, clock: new JumpClock(now), budget, notifier })();
    expect(titles.slice(titlesBefore).find((t) => t.startsWith('Daily hard'))).toMatch(/^Daily hard budget cap reached: \$5\.50 of \$5; /);
  });
});

describe('the global daily gate reserves shadows in flight', () => {
  it('refuses a claim it admits without them, and admits it again once they ended (done or interrupted)', () => {
    const d = db();
    const now = Date.now();
    const clock = new JumpClock(now);
    appendEvent(d, { at: now, actor: 'engine', kind: 'spend', payload: { usd: 1 } });
    // As the engine wires it: two tasks in flight plus the one asking, at the per-task cap each.
    const gate = dailyBudgetGate({ db: d, clock, budget, reservedUsd: () => (2 + 1) * budget.perTaskUsd });
    // $1 spent + $3 reserved <= $5.
    expect(gate()).toMatchObject({ exceeded: false, spentToday: 1 });
    const a = shadowRunning(d, 'T0-1');
    // + one shadow's $1: $5, still within the cap.
    expect(gate()).toMatchObject({ exceeded: false });
    const b = shadowRunning(d, 'T0-2');
    // + two shadows: $6 > $5.
    expect(gate()).toMatchObject({ exceeded: true });
    ended(d, a, 'done');
    expect(gate()).toMatchObject({ exceeded: false });
    shadowRunning(d, 'T0-1', 1);
    expect(gate()).toMatchObject({ exceeded: true });
    ended(d, b, 'interrupted');
    expect(gate()).toMatchObject({ exceeded: false });
  });

  it('a shadow starts only when the spend, every reservation and its own cap stay within the hard cap', () => {
    const d = db();
    const now = Date.now();
    const single = validateConfig({ name: 'w', budget: { perTaskUsd: 1, dailySoftUsd: 5, dailyHardUsd: 5 } }, { configPath: '/proj/oxi.config.json' });
    appendEvent(d, { at: now, actor: 'engine', kind: 'spend', payload: { usd: 1.5 } });
    const inFlight = { inFlight: () => 2, inFlightWhere: () => 2 };
    // $1.5 + two tasks + this shadow = $4.5 <= $5.
    expect(shadowBudgetRefusal({ db: d, adapter: single, now, taskId: 'T0-1', pool: inFlight })).toBeUndefined();
    const a = shadowRunning(d, 'T0-2');
    // + a shadow already running: $5.5 > $5.
    const why = shadowBudgetRefusal({ db: d, adapter: single, now, taskId: 'T0-1', pool: inFlight });
    expect(why).toMatch(/^budget: starting it would pass the daily hard cap of \$5 /);
    expect(why).toContain('$1.5 spent today');
    expect(why).toContain('3 sessions in flight');
    ended(d, a, 'done');
    expect(shadowBudgetRefusal({ db: d, adapter: single, now, taskId: 'T0-1', pool: inFlight })).toBeUndefined();
  });
});

describe('the per-repository gate reserves its shadows in flight', () => {
  const adapter = validateConfig(
    {
      name: 'acme',
      budget: { perTaskUsd: 1, dailySoftUsd: 50, dailyHardUsd: 100 },
      repos: [
        { name: 'product', path: 'product' },
        { name: 'engine', path: 'engine', budget: { dailySoftUsd: 4, dailyHardUsd: 4 } },
      ],
    },
    { configPath: '/proj/oxi.config.json' },
  );

  it("counts only its own repository's shadows, and forgets one that ended", () => {
    const d = db();
    const now = Date.now();
    ingestItems(d, [{ id: 'engine/T0-1', repo: 'engine', tier: 0, title: 'e', description: '', seq: 0 }, { id: 'product/T0-1', repo: 'product', tier: 0, title: 'p', description: '', seq: 0 }], now);
    appendEvent(d, { at: now, actor: 'engine', kind: 'spend', task: 'engine/T0-1', payload: { usd: 1 } });
    // One engine task in flight plus the one asking: $1 + $2 <= $4.
    const gate = repoBudgetGate({ db: d, clock: new JumpClock(now), adapter, inFlight: (repo) => (repo === 'engine' ? 1 : 0) })!;
    expect(gate('engine/T0-9')).toMatchObject({ exceeded: false });
    // Product's shadows are product's: engine's gate does not count them.
    shadowRunning(d, 'product/T0-1');
    shadowRunning(d, 'product/T0-1', 1);
    expect(gate('engine/T0-9')).toMatchObject({ exceeded: false });
    const id = shadowRunning(d, 'engine/T0-1');
    // + engine's own shadow: $4, at the cap; a second one passes it.
    expect(gate('engine/T0-9')).toMatchObject({ exceeded: false });
    const id2 = shadowRunning(d, 'engine/T0-1', 1);
    expect(gate('engine/T0-9')).toMatchObject({ exceeded: true });
    expect(gate('product/T0-9')).toMatchObject({ exceeded: false });
    ended(d, id, 'done');
    ended(d, id2, 'interrupted');
    expect(gate('engine/T0-9')).toMatchObject({ exceeded: false });
  });

  it("a shadow is refused on its repository's hard cap while the global one has room", () => {
    const d = db();
    const now = Date.now();
    appendEvent(d, { at: now, actor: 'engine', kind: 'spend', task: 'engine/T0-1', payload: { usd: 1.5 } });
    ingestItems(d, [{ id: 'engine/T0-1', repo: 'engine', tier: 0, title: 'e', description: '', seq: 0 }], now);
    const pool = { inFlight: () => 2, inFlightWhere: (which: (id: string) => boolean) => ['engine/T0-1', 'product/T0-1'].filter(which).length };
    // engine: $1.5 + its task + this shadow = $3.5 <= $4; one more shadow running makes it $4.5.
    expect(shadowBudgetRefusal({ db: d, adapter, now, taskId: 'engine/T0-1', pool })).toBeUndefined();
    shadowRunning(d, 'engine/T0-1');
    const why = shadowBudgetRefusal({ db: d, adapter, now, taskId: 'engine/T0-1', pool });
    expect(why).toMatch(/^budget: starting it would pass repository engine's daily hard cap of \$4 /);
    // Product has room: its shadow may start.
    expect(shadowBudgetRefusal({ db: d, adapter, now, taskId: 'product/T0-1', pool })).toBeUndefined();
  });

  it("as a task's repository view sees it: the global check reserves the others at the largest per-task cap, its own at its repository's", () => {
    const multi = validateConfig(
      {
        name: 'acme',
        budget: { perTaskUsd: 2, dailySoftUsd: 10, dailyHardUsd: 10 },
        repos: [{ name: 'product', path: 'product' }, { name: 'engine', path: 'engine', budget: { perTaskUsd: 1 } }],
      },
      { configPath: '/proj/oxi.config.json' },
    );
    const d = db();
    const now = Date.now();
    appendEvent(d, { at: now, actor: 'engine', kind: 'spend', payload: { usd: 5 } });
    const pool = { inFlight: () => 2, inFlightWhere: () => 0 };
    // The effect's deps carry engine's view: its budget.perTaskUsd is engine's $1.
    const view = adapterForRepo(multi, 'engine');
    expect(view.budget.perTaskUsd).toBe(1);
    // $5 + two sessions at $2 + this shadow's $1 = $10.
    expect(shadowBudgetRefusal({ db: d, adapter: view, now, taskId: 'engine/T0-1', pool })).toBeUndefined();
    shadowRunning(d, 'product/T0-1');
    // + product's shadow at $2: $12 > $10 (at engine's $1 each it would seem $9).
    expect(shadowBudgetRefusal({ db: d, adapter: view, now, taskId: 'engine/T0-1', pool })).toBe(
      'budget: starting it would pass the daily hard cap of $10 ($5 spent today + $6 reserved for 3 sessions in flight + $1 for this shadow)',
    );
  });
});
