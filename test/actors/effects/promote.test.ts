import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { promoteEnv, promoteHistory, promoteTail, runPromote, PROMOTE_TAIL_BYTES } from '../../../actors/effects/promote.js';
import type { EffectDeps } from '../../../actors/effects/deps.js';
import { ManualClock } from '../../../src/clock.js';
import { validateConfig } from '../../../src/config/validate.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { appendEvent } from '../../../src/store/ledger.js';
import { lastPromoteRow } from '../../../src/store/promote.js';

let dir: string;
let db: Db | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function setup(promote: Record<string, unknown>) {
  dir = mkdtempSync(join(tmpdir(), 'oxi-promote-'));
  const adapter = validateConfig({ name: 'p', repo: { path: dir }, paths: { stateDir: join(dir, '.oxi') }, promote }, { configPath: join(dir, 'oxi.config.json') });
  db = openDb(join(dir, 'oxi.db'));
  return { adapter, db, clock: new ManualClock(Date.UTC(2026, 2, 10)) };
}

describe('promote effects', () => {
  it('keeps at most 4 KiB of output, whole characters, secrets redacted before the cut', () => {
    const long = `${'é'.repeat(5000)}\nthe end with sk-abcdefghijklmnopqrstuv and my-secret-value\n`;
    const tail = promoteTail(long, ['my-secret-value']);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(PROMOTE_TAIL_BYTES);
    expect(tail.endsWith('the end with [redacted] and [redacted]\n')).toBe(true);
    expect(tail).not.toContain('\uFFFD');
  });

  it('passes the base variables and the listed ones, never a secret the adapter names', () => {
    const { adapter } = setup({ command: ['true'], schedule: 'after-merge', env: ['DEPLOY_TARGET', 'GH_TOKEN', 'OPENAI_API_KEY'] });
    const env = promoteEnv(adapter, adapter.promote as never, { PATH: '/bin', HOME: '/h', DEPLOY_TARGET: 'prod', GH_TOKEN: 't', OPENAI_API_KEY: 'k', OTHER: 'x' });
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', DEPLOY_TARGET: 'prod' });
  });

  it('stops a command past its timeout (its whole group) and records it as failed', async () => {
    const { adapter, db, clock } = setup({ command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], schedule: 'after-merge', timeoutMinutes: 0.005 });
    const out = await runPromote({ db, adapter, clock, recipe: adapter.promote as never, trigger: 'manual', actor: 'test' });
    expect(out).toMatchObject({ ok: false, exitCode: null, summary: 'timed out after 0.005 min and was stopped' });
    expect(lastPromoteRow(db, 'default')).toMatchObject({ kind: 'promote.run', payload: expect.objectContaining({ ok: false, signal: 'SIGTERM' }) });
  });

  it('a command that cannot start is a failed run with the reason, not a crash', async () => {
    const { adapter, db, clock } = setup({ command: ['/nonexistent/promote-cmd'], schedule: 'after-merge' });
    const out = await runPromote({ db, adapter, clock, recipe: adapter.promote as never, trigger: 'manual', actor: 'test' });
    expect(out.ok).toBe(false);
    expect(out.summary).toMatch(/^could not start \/nonexistent\/promote-cmd: ENOENT/);
  });

  it('history: arms a recipe on first sight, then reads its last run and the merges since', async () => {
    const { adapter, db, clock } = setup({ command: ['true'], schedule: 'after-merge' });
    const deps = { db, clock, adapter } as unknown as EffectDeps;
    appendEvent(db, { at: 1, actor: 'task:T1', kind: 'task.merged', task: 'T1' });
    const first = await promoteHistory(deps, { name: 'default' });
    expect(first).toMatchObject({ lastRunAt: clock.now(), mergeCursor: first.latestMerge, ledger: [{ kind: 'promote.armed', payload: { name: 'default', mergeId: first.latestMerge } }] });
    appendEvent(db, { at: 5, actor: 'promoter:default', kind: 'promote.started', payload: { name: 'default', mergeId: first.latestMerge } });
    appendEvent(db, { at: 6, actor: 'task:T2', kind: 'task.merged', task: 'T2' });
    const second = await promoteHistory(deps, { name: 'default' });
    expect(second.lastRunAt).toBe(5);
    expect(second.latestMerge).toBeGreaterThan(second.mergeCursor);
    expect(second.ledger).toBeUndefined();
    // The partial indexes answer both questions (no scan of the whole ledger).
    const plan = (sql: string) => JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all());
    expect(plan("SELECT MAX(id) FROM event WHERE kind = 'task.merged'")).toContain('event_merged');
    expect(plan("SELECT id FROM event WHERE kind IN ('promote.started', 'promote.run', 'promote.armed') AND json_extract(payload, '$.name') = 'x' ORDER BY id DESC LIMIT 1")).toContain('event_promote');
  });
});
