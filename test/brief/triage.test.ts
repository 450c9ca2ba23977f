/**
 * The brief with triage summaries: under the abandoned task it explains, and a "Waiting for a human" section for
 * a parked task with one. Without any summary the brief is the one brief.test.ts pins, byte for byte.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { collectBrief } from '../../src/brief/collect.js';
import { renderBrief } from '../../src/brief/render.js';
import { appendEvent } from '../../src/store/ledger.js';
import { fixtureLedger, NOW } from './brief.fixture.js';

const fx = fixtureLedger();
afterAll(() => {
  fx.db.close();
  rmSync(fx.dir, { recursive: true, force: true });
});

describe('brief: triage', () => {
  it('shows each summary under its task, and lists parked tasks that have one', () => {
    const before = collectBrief(fx.db, fx.adapter, { now: NOW, hours: 24 });
    expect(before).not.toHaveProperty('waiting');
    const stop = (fx.db.prepare(`SELECT id FROM event WHERE kind='task.abandoned' AND task='T0-103'`).get() as { id: number }).id;
    appendEvent(fx.db, { at: NOW - 60_000, actor: 'triage', kind: 'task.triage', task: 'T0-103', payload: { event: stop, status: 'abandoned', summary: 'The plan named no tests, so the critic kept rejecting.' } });
    fx.db.prepare(`INSERT INTO tasks (id, repo, tier, title, status, seq, last_progress_at, created_at, updated_at) VALUES ('T0-199', ?, 0, 'Ship the CI change', 'awaiting_human', 9, ?, ?, ?)`).run(fx.adapter.name, NOW, NOW, NOW);
    appendEvent(fx.db, { at: NOW - 120_000, actor: 'task:T0-199', kind: 'task.awaiting_human', task: 'T0-199', payload: { from: 'merging', event: 'x' } });
    appendEvent(fx.db, { at: NOW - 60_000, actor: 'triage', kind: 'task.triage', task: 'T0-199', payload: { event: 0, status: 'awaiting_human', summary: 'It changes .github/; only a human merges that.' } });

    const md = renderBrief(collectBrief(fx.db, fx.adapter, { now: NOW, hours: 24 }));
    expect(md).toContain("- T0-103 · Parse CSV — critic rejected 3 times: the plan's tests are missing (full log: .oxi/logs/T0-103/)\n  - triage: The plan named no tests, so the critic kept rejecting.\n");
    expect(md).toContain('## Waiting for a human (1)\n\n- T0-199 · Ship the CI change\n  - triage: It changes .github/; only a human merges that.\n');
  });
});
