/**
 * Found by the long simulated week: a human closed a task's PR while the task was away from it (in a
 * fix loop, or deferred by the budget), prWatcher did not look (it watches tasks at their PR), and the
 * next ship opened a second PR. openPr now looks at the task's PR first: closed means closed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EffectDeps } from '../../actors/effects/deps.js';
import { openPr } from '../../actors/effects/task-effects.js';
import { validateConfig } from '../../src/config/validate.js';
import { openDb } from '../../src/store/db.js';
import { ingestItems } from '../../src/store/tasks.js';
import { prng } from '../helpers/prng.js';
import { Population } from '../../src/sim/population.js';
import { SimForge } from '../../src/sim/sim-forge.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-prclosed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openPr after the task\'s PR was closed behind its back', () => {
  it('reports the PR closed instead of opening a second one; an open or absent PR is (re)used as before', async () => {
    const adapter = validateConfig({ name: 'prc', checks: { command: ['true'] }, agents: { scripted: { script: 's.json' } } }, { configPath: join(dir, 'oxi.config.json') });
    mkdirSync(adapter.paths.stateDir, { recursive: true });
    const db = openDb(adapter.paths.db);
    ingestItems(db, [{ id: 'T0-1', repo: 'prc', tier: 0, title: 't', description: 'd', seq: 0 }], Date.now());
    const rand = prng(1);
    const forge = new SimForge(rand, new Population(rand, 2), { killed: () => false, violation: () => undefined });
    const deps = { db, adapter, forge } as unknown as EffectDeps;
    const input = { taskId: 'T0-1', attempt: 0, branch: 'oxi/t0-1', title: 't', plan: { files_touched: ['a'], tests: [], dependencies: [], risk: 'low' }, headSha: 'a1' };

    const first = await openPr(deps, input);
    expect(first).toMatchObject({ pr: 1, merged: false });
    expect(first.closed).toBeUndefined();
    db.prepare('UPDATE tasks SET pr = ? WHERE id = ?').run(first.pr, 'T0-1');
    // A fix pushed to the same open PR adopts it.
    expect(await openPr(deps, { ...input, headSha: 'a2' })).toMatchObject({ pr: 1, merged: false });
    // Closed by a human while the task was working on a fix.
    forge.close(1);
    const after = await openPr(deps, { ...input, headSha: 'a3' });
    expect(after).toMatchObject({ pr: 1, merged: false, closed: true });
    expect(forge.opened.get('T0-1')).toBe(1);
    db.close();
  });
});

