/**
 * The dispatch pool and the budget with several repositories (adapter `repos`): overlap only within a
 * repository, a host only for repositories it has a clone of, and each repository's own caps inside the
 * global ones. The real pool and budget over a real SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostHasRepo, repoOfTask } from '../../src/config/repos.js';
import { validateConfig } from '../../src/config/validate.js';
import { heldRepos, repoBudgetGate, repoSpendToday } from '../../src/dispatch/budget.js';
import { DispatchPool } from '../../src/dispatch/pool.js';
import { openDb } from '../../src/store/db.js';
import { appendEvent } from '../../src/store/ledger.js';
import { ingestItems } from '../../src/store/tasks.js';
import { JumpClock } from '../helpers/jump-clock.js';

const cleanups: Array<() => unknown> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

const adapter = validateConfig(
  {
    name: 'acme',
    budget: { perTaskUsd: 1, dailySoftUsd: 20, dailyHardUsd: 50 },
    repos: [
      { name: 'product', path: 'product' },
      { name: 'engine', path: 'engine', budget: { dailySoftUsd: 2, dailyHardUsd: 3 } },
    ],
    hosts: [
      { name: 'local', kind: 'local' },
      { name: 'box', kind: 'ssh', address: 'b', user: 'u', worktreesRoot: '/w', repos: { engine: { mainClone: '/src/engine' } } },
    ],
  },
  { configPath: '/proj/oxi.config.json' },
);

function pool(options: { files?: Array<{ task: string; files: string[] }> } = {}) {
  const clock = new JumpClock(Date.now());
  const repoOf = (id: string) => repoOfTask(adapter, id);
  return new DispatchPool({
    clock,
    planTierMax: 10,
    overlapDeferMs: 1000,
    openPrFiles: async () => options.files ?? [],
    budget: () => ({ exceeded: false, soft: false, until: 0 }),
    sameRepo: (a, b) => repoOf(a) === repoOf(b),
    hostServes: (host, id) => hostHasRepo(adapter, host, repoOf(id)),
  });
}

function db() {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-repos-'));
  const d = openDb(join(dir, 'oxi.db'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => d.close());
  return d;
}

describe('the pool with several repositories', () => {
  it('compares files only between tasks of the same repository', async () => {
    const p = pool({ files: [{ task: 'product/T0-1', files: ['src/a.ts'] }] });
    p.setCapacity('local', 4);
    // Same path, other repository: no overlap.
    expect(await p.claim('engine/T0-2', ['src/a.ts'])).toMatchObject({ granted: true });
    // Same path, same repository as an open PR: deferred.
    expect(await p.claim('product/T0-3', ['src/a.ts'])).toMatchObject({ granted: false, reason: 'overlap', ledger: [{ kind: 'overlap.deferred', payload: { files: ['src/a.ts'] } }] });
    // A slot held by engine/T0-2 reserves its files for engine only.
    expect(await p.claim('engine/T0-4', ['src/a.ts'])).toMatchObject({ granted: false, reason: 'overlap' });
  });

  it('gives a task a slot only on a host that has its repository\'s clone', async () => {
    const p = pool();
    p.setCapacity('box', 2);
    // box has only engine's clone: product's task waits, engine's takes box.
    const product = p.claim('product/T0-1', ['a']);
    expect(await p.claim('engine/T0-2', ['b'])).toEqual({ granted: true, host: 'box' });
    expect(p.leaseOf('product/T0-1')).toBeUndefined();
    // A local host serves every repository: the waiting product task gets it.
    p.setCapacity('local', 1);
    expect(await product).toEqual({ granted: true, host: 'local' });
  });
});

describe('the budget with several repositories', () => {
  it('sums spend per repository and holds one past its own caps while the other goes on', () => {
    const d = db();
    const now = Date.now();
    ingestItems(d, [{ id: 'product/T0-1', repo: 'product', tier: 0, title: 'p', description: '', seq: 0 }, { id: 'engine/T0-1', repo: 'engine', tier: 0, title: 'e', description: '', seq: 0 }], now);
    appendEvent(d, { at: now, actor: 'engine', kind: 'spend', task: 'product/T0-1', payload: { usd: 5 } });
    appendEvent(d, { at: now, actor: 'engine', kind: 'spend', task: 'engine/T0-1', payload: { usd: 2.5 } });
    expect(repoSpendToday(d, adapter, now)).toEqual({ product: 5, engine: 2.5 });
    expect(heldRepos(d, adapter, now)).toEqual(['engine']);

    const gate = repoBudgetGate({ db: d, clock: { now: () => now }, adapter, inFlight: () => 0 })!;
    expect(gate('product/T0-9')).toMatchObject({ soft: false, exceeded: false, spentToday: 5 });
    // engine: $2.5 spent + one session's $1 cap reserved > its $3 hard cap.
    expect(gate('engine/T0-9')).toMatchObject({ soft: true, exceeded: true, spentToday: 2.5 });
    const rows = d.prepare(`SELECT kind, payload FROM event WHERE kind LIKE 'budget.repo_%' ORDER BY id`).all() as Array<{ kind: string; payload: string }>;
    expect(rows.map((r) => [r.kind, JSON.parse(r.payload).repo])).toEqual([['budget.repo_soft_warning', 'engine'], ['budget.repo_hard_stop', 'engine']]);
    // Recorded once a day per repository.
    gate('engine/T0-9');
    expect(d.prepare(`SELECT COUNT(*) AS n FROM event WHERE kind LIKE 'budget.repo_%'`).get()).toEqual({ n: 2 });

    // The pool refuses engine's fresh task on engine's caps, with the repository named in the ledger row.
    const p = new DispatchPool({ clock: { now: () => now }, planTierMax: 4, overlapDeferMs: 1000, openPrFiles: async () => [], budget: () => ({ exceeded: false, soft: false, until: 0 }), repoBudget: gate });
    p.setCapacity('local', 2);
    return Promise.all([
      expect(p.claim('engine/T0-9', ['x'], undefined, true)).resolves.toMatchObject({ granted: false, reason: 'budget', ledger: [{ kind: 'budget.hard_cap', payload: { task: 'engine/T0-9', scope: 'repo' } }] }),
      expect(p.claim('product/T0-9', ['x'], undefined, true)).resolves.toMatchObject({ granted: true }),
    ]);
  });

  it('with a single repo there is no per-repository gate and nothing is held', () => {
    const single = validateConfig({ name: 'w' }, { configPath: '/proj/oxi.config.json' });
    const d = db();
    expect(repoBudgetGate({ db: d, clock: { now: () => 0 }, adapter: single, inFlight: () => 0 })).toBeUndefined();
    expect(heldRepos(d, single, Date.now())).toEqual([]);
    expect(repoSpendToday(d, single, Date.now())).toEqual({ w: 0 });
  });
});
