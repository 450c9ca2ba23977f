import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seedRoadmap } from '../../actors/effects/background.js';
import type { EffectDeps } from '../../actors/effects/deps.js';
import { ManualClock } from '../../src/clock.js';
import { openDb } from '../../src/store/db.js';
import { listTasks } from '../../src/store/tasks.js';
import { appendEvent } from '../../src/store/ledger.js';
import { dailyBudgetGate } from '../../src/dispatch/budget.js';
import { DispatchPool } from '../../src/dispatch/pool.js';
import { oxi, query, sampleProject } from '../helpers/project.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const roadmap = (items: string[]) => `# Roadmap\n\n## Tier 1\n\n${items.filter((i) => i.startsWith('T1')).map((i) => `**${i} · item ${i}**\n_about ${i}_\n`).join('\n')}\n## Tier 0\n\n${items.filter((i) => i.startsWith('T0')).map((i) => `**${i} · item ${i}**\n_about ${i}_\n`).join('\n')}\n## Done\n\n- T0-1\n`;

describe('seeder', () => {
  it('ingests new items once, fills the live set in tier order, and marks items that disappeared', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oxi-seed-'));
    const db = openDb(join(dir, 'oxi.db'));
    cleanups.push(() => (db.close(), rmSync(dir, { recursive: true, force: true })));
    const file = join(dir, 'ROADMAP.md');
    writeFileSync(file, roadmap(['T1-5', 'T0-7', 'T0-B2']));
    const deps = { db, clock: new ManualClock(), adapter: { name: 'p', roadmap: file, engine: { maxLiveTasks: 2 }, budget: { perTaskUsd: 2, dailySoftUsd: 20, dailyHardUsd: 50 } } } as unknown as EffectDeps;

    const first = await seedRoadmap(deps);
    expect(first.ledger).toEqual([{ kind: 'seeder.ingested', payload: { added: ['T1-5', 'T0-7', 'T0-B2'] } }]);
    expect(first.spawn.map((t) => t.id)).toEqual(['T0-7', 'T0-B2']); // tier 0 first, file order within; cap 2

    const again = await seedRoadmap(deps);
    expect(again.ledger).toEqual([]); // never duplicates a T-id
    expect(listTasks(db)).toHaveLength(3);

    writeFileSync(file, roadmap(['T1-5', 'T0-7', 'T1-9']));
    const third = await seedRoadmap(deps);
    expect(third.ledger).toEqual([
      { kind: 'seeder.ingested', payload: { added: ['T1-9'] } },
      { kind: 'seeder.missing', payload: { missing: ['T0-B2'] } },
    ]);
    expect(third.spawn.map((t) => t.id)).toEqual(['T0-7', 'T1-5']);
    expect(listTasks(db).find((t) => t.id === 'T0-B2')?.roadmap_state).toBe('missing');
  });

  it('past the daily soft cap it brings no new task alive, and the day gets its soft_warning row (once) even if no slot is asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oxi-seed-soft-'));
    const db = openDb(join(dir, 'oxi.db'));
    cleanups.push(() => (db.close(), rmSync(dir, { recursive: true, force: true })));
    const file = join(dir, 'ROADMAP.md');
    writeFileSync(file, roadmap(['T0-7', 'T0-8']));
    const clock = new ManualClock(Date.UTC(2026, 10, 22, 12));
    const budget = { perTaskUsd: 2, dailySoftUsd: 5, dailyHardUsd: 50 };
    appendEvent(db, { at: clock.now() - 1000, actor: 'task:T0-1', kind: 'spend', payload: { usd: 6, role: 'worker', task: 'T0-1' } });
    const pool = new DispatchPool({ clock, planTierMax: 1, overlapDeferMs: 1000, openPrFiles: async () => [], budget: dailyBudgetGate({ db, clock, budget }) });
    const deps = { db, clock, pool, adapter: { name: 'p', roadmap: file, engine: { maxLiveTasks: 5 }, budget } } as unknown as EffectDeps;

    expect((await seedRoadmap(deps)).spawn).toEqual([]);
    expect((await seedRoadmap(deps)).spawn).toEqual([]);
    expect(db.prepare(`SELECT kind FROM event WHERE kind LIKE 'budget.%'`).all()).toEqual([{ kind: 'budget.soft_warning' }]);
    clock.advance(24 * 3_600_000); // the next UTC day reopens
    expect((await seedRoadmap(deps)).spawn.map((t) => t.id)).toEqual(['T0-7', 'T0-8']);
  });

  it('a missing roadmap is a clear error naming the path and the fix', async () => {
    const deps = { adapter: { roadmap: '/nonexistent/ROADMAP.md' } } as unknown as EffectDeps;
    await expect(seedRoadmap(deps)).rejects.toThrow(/Could not read the roadmap at \/nonexistent\/ROADMAP.md/);
  });
});

describe('oxi tick', () => {
  it('runs passes until nothing is left to do now, then exits 0', () => {
    const p = sampleProject({ tasks: 2 });
    cleanups.push(p.cleanup);
    const res = oxi(['--config', p.configPath, 'tick', '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ passes: 1, exit: { code: 0, reason: 'settled: every task is merged or abandoned' } });
    expect(query<{ status: string }>(p.db, 'SELECT status FROM tasks').map((t) => t.status)).toEqual(['merged', 'merged']);
    expect(oxi(['--config', p.configPath, 'tick', '--times', 'zero']).code).toBe(2);
  });
});
