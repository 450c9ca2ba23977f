/** Spend (ledger.ts) and task counts per repository, from a real SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { appendEvent, spendByRepoBetween as spendByRepo } from '../../src/store/ledger.js';
import { countsByRepo, reposWithTasks } from '../../src/store/repo-spend.js';
import { ingestItems } from '../../src/store/tasks.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-repo-spend-'));
const db = openDb(join(dir, 'oxi.db'));
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('per repository', () => {
  ingestItems(db, [
    { id: 'product/T0-1', repo: 'product', tier: 0, title: 'a', description: '', seq: 0 },
    { id: 'product/T0-2', repo: 'product', tier: 0, title: 'b', description: '', seq: 1 },
    { id: 'engine/T0-1', repo: 'engine', tier: 0, title: 'c', description: '', seq: 0 },
  ], 1000);
  db.prepare(`UPDATE tasks SET status='merged' WHERE id='product/T0-1'`).run();

  it('spend is summed by the repository of the task each spend row names, inside the window only; spend of no task under ""', () => {
    appendEvent(db, { at: 100, actor: 'task:product/T0-1', kind: 'spend', task: 'product/T0-1', payload: { usd: 0.5 } });
    appendEvent(db, { at: 200, actor: 'task:product/T0-2', kind: 'spend', task: 'product/T0-2', payload: { usd: 0.25 } });
    appendEvent(db, { at: 300, actor: 'task:engine/T0-1', kind: 'spend', task: 'engine/T0-1', payload: { usd: 1, task: 'engine/T0-1' } });
    appendEvent(db, { at: 400, actor: 'engine', kind: 'spend', payload: { usd: 2 } });
    appendEvent(db, { at: 500, actor: 'task:engine/T0-1', kind: 'spend', task: 'engine/T0-1', payload: { usd: 8 } });
    appendEvent(db, { at: 150, actor: 'task:engine/T0-1', kind: 'task.working', task: 'engine/T0-1', payload: { usd: 99 } });
    expect(spendByRepo(db, 0, 500)).toEqual({ '': 2, engine: 1, product: 0.75 });
    expect(spendByRepo(db, 150, 350)).toEqual({ engine: 1, product: 0.25 });
    expect(spendByRepo(db, 600, 700)).toEqual({});
  });

  it('counts by repository and status; the repositories with tasks', () => {
    expect(countsByRepo(db)).toEqual({ engine: { queued: 1 }, product: { merged: 1, queued: 1 } });
    expect(reposWithTasks(db)).toEqual(['engine', 'product']);
  });
});
