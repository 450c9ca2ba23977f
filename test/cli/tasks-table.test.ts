/** `oxi tasks` for people, and failure reasons in one line (tasks and brief). */
import { describe, expect, it, afterAll } from 'vitest';
import { join } from 'node:path';
import { collectBrief, firstLine } from '../../src/brief/collect.js';
import { renderBrief } from '../../src/brief/render.js';
import { loadAdapter } from '../../src/config/load.js';
import { openDb } from '../../src/store/db.js';
import { appendEvent } from '../../src/store/ledger.js';
import { ingestItems } from '../../src/store/tasks.js';
import { oxi, sampleProject } from '../helpers/project.js';

const p = sampleProject({ tasks: 3 });
afterAll(() => p.cleanup());
const [working, abandoned, merged] = p.ids;
const CHECKS_LOG = 'rejected after 2 fix attempts: CI failed: check test: failure\n  npm test failed\n  ✖ negate (1.2ms)\n    AssertionError [ERR_ASSERTION]: 12 !== -3\n  at TestContext.<anonymous> (test/negate.test.js:6:10)';

describe('oxi tasks', () => {
  const db = openDb(p.db);
  const now = Date.now();
  ingestItems(db, p.ids.map((id, seq) => ({ id, repo: 'demo', tier: 0, title: `Title of ${id}`, description: '', seq })), now);
  db.prepare(`UPDATE tasks SET status='working', host='local', attempt=1, activity=? WHERE id=?`).run(JSON.stringify({ kind: 'permission', tool: 'mcp__filesystem__write_file_with_long_name' }), working);
  db.prepare(`UPDATE tasks SET status='abandoned', host='local', attempt=2, reason=? WHERE id=?`).run(CHECKS_LOG, abandoned);
  db.prepare(`UPDATE tasks SET status='merged', host='local', pr=12, last_progress_at=? WHERE id=?`).run(now - 3 * 3_600_000, merged);
  db.close();

  it('has a header row and the promised columns (attempts, host, last progress), aligned with a long activity name', () => {
    const res = oxi(['tasks'], { cwd: p.dir });
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+ATTEMPTS\s+PR\s+HOST\s+LAST PROGRESS\s+BACKEND\s+TITLE$/);
    const rows = lines.filter((l) => /^T\d/.test(l));
    expect(rows).toHaveLength(3);
    // Every title starts in the header's TITLE column, however long the activity cell is.
    const col = lines[0].indexOf('TITLE');
    for (const r of rows) expect(r.indexOf('Title of ')).toBe(col);
    expect(rows[0]).toContain('working:permission:mcp__filesystem__write_file_with_long_name');
    expect(rows.find((r) => r.startsWith(merged))).toMatch(/\s#12\s+local\s+3h ago\s/);
  });

  it('shows a failure reason as one line (the first failing test) with the full log\'s path', () => {
    const res = oxi(['tasks'], { cwd: p.dir });
    const reason = res.stdout.split('\n').filter((l) => l.includes('↳'));
    expect(reason).toEqual([`  ↳ rejected after 2 fix attempts: CI failed: check test: failure: ✖ negate (1.2ms) (full log: ${join(p.dir, '.oxi', 'logs', abandoned)}/)`]);
    const json = JSON.parse(oxi(['tasks', '--json'], { cwd: p.dir }).stdout);
    const row = json.find((t: { id: string }) => t.id === abandoned);
    expect(row.reason).toBe(CHECKS_LOG);
    expect(row.reason_line).toBe('rejected after 2 fix attempts: CI failed: check test: failure: ✖ negate (1.2ms)');
    expect(row.logs).toBe(join(p.dir, '.oxi', 'logs', abandoned));
  });
});

describe('oxi brief', () => {
  it('counts each task once (by how it last ended), shows kill reasons, and one-line reasons with the log path', async () => {
    const adapter = await loadAdapter({ cwd: p.dir });
    const db = openDb(p.db);
    const at = Date.now() - 60_000;
    // Abandoned twice, then retried and merged: merged once, never abandoned.
    appendEvent(db, { at, actor: `task:${merged}`, kind: 'task.abandoned', task: merged, payload: {} });
    appendEvent(db, { at: at + 1, actor: `task:${merged}`, kind: 'task.abandoned', task: merged, payload: {} });
    appendEvent(db, { at: at + 2, actor: `task:${merged}`, kind: 'task.merged', task: merged, payload: {} });
    appendEvent(db, { at: at + 3, actor: `task:${abandoned}`, kind: 'task.abandoned', task: abandoned, payload: {} });
    appendEvent(db, { at: at + 4, actor: `task:${abandoned}`, kind: 'task.abandoned', task: abandoned, payload: {} });
    appendEvent(db, { at: at + 5, actor: 'engineState', kind: 'engineState.killed', payload: { from: 'running', event: 'engine.kill', reason: 'bad deploy', by: 'cli:ann' } });
    const brief = collectBrief(db, adapter, { now: Date.now(), hours: 1 });
    db.close();
    expect(brief.merged.map((m) => m.task)).toEqual([merged]);
    expect(brief.abandoned.map((a) => a.task)).toEqual([abandoned]);
    const md = renderBrief(brief);
    expect(md).toContain(`- ${abandoned} · Title of ${abandoned} — rejected after 2 fix attempts: CI failed: check test: failure: ✖ negate (1.2ms) (full log: .oxi/logs/${abandoned}/)`);
    expect(md).toMatch(/UTC killed: "bad deploy" by cli:ann/);
    expect(firstLine('agent error: boom')).toBe('agent error: boom');
  });
});
