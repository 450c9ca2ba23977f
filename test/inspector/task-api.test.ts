import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepLogs } from '../../actors/effects/log-janitor.js';
import { startDashboard, type DashboardServer } from '../../inspector/server.js';
import type { Db } from '../../src/store/db.js';
import { line, seedDashboardProject } from '../helpers/dashboard-seed.js';

let seed: ReturnType<typeof seedDashboardProject>;
let db: Db;
let server: DashboardServer;
let base: string;
let baseSha: string;
let headSha: string;
let T0: number;

beforeAll(async () => {
  seed = seedDashboardProject();
  ({ db, baseSha, headSha, T0 } = seed);
  server = await startDashboard({ db, adapter: seed.adapter, token: { value: 't'.repeat(24), generated: true }, port: 0, pollMs: 100 });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  seed?.cleanup();
});

const json = async (path: string) => {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: await res.json() };
};

describe('task detail API', () => {
  it('GET /tasks/:id/diff: the files between the recorded base and head, each with its patch and scope verdict', async () => {
    const { status, body } = await json('/api/v1/tasks/T0-1/diff');
    expect(status).toBe(200);
    expect(body).toEqual(expect.objectContaining({ schema: 'oxi.diff.v1', base: baseSha, head: headSha, source: 'context' }));
    const byPath = Object.fromEntries(body.files.map((f: { path: string }) => [f.path, f]));
    expect(Object.keys(byPath).sort()).toEqual(['.github/workflows/ci.yml', 'docs/notes.md', 'secrets/key.txt', 'src/value.js']);
    expect(byPath['src/value.js']).toEqual(expect.objectContaining({ status: 'modified', additions: 3, deletions: 1, scope: expect.objectContaining({ verdict: 'ok' }) }));
    expect(byPath['src/value.js'].patch).toMatch(/^-module\.exports = \{ value: 1 \};$/m);
    expect(byPath['src/value.js'].patch).toMatch(/^\+module\.exports = \{ value: 2, label \};$/m);
    expect(byPath['secrets/key.txt'].scope.verdict).toBe('blocked');
    expect(byPath['.github/workflows/ci.yml'].scope.verdict).toBe('protected');
    expect(byPath['docs/notes.md']).toEqual(expect.objectContaining({ status: 'added', scope: expect.objectContaining({ verdict: 'sensitive' }) }));
  });

  it('a task with nothing shipped has no diff and says why; an unknown task is a 404', async () => {
    const { body } = await json('/api/v1/tasks/T0-2/diff');
    expect(body.files).toEqual([]);
    expect(body.note).toMatch(/No head shipped yet/);
    expect((await json('/api/v1/tasks/NOPE/diff')).status).toBe(404);
  });

  it('GET /tasks/:id/overview: plan, critic verdicts with reasons, checks with the first failure, cost per role', async () => {
    const { body } = await json('/api/v1/tasks/T0-1/overview');
    expect(body.plan).toEqual({ files_touched: ['src/value.js'], summary: 'bump the value', risk: 'low' });
    expect(body.verdicts).toEqual([expect.objectContaining({ verdict: 'reject', reasons: ['blocked paths touched: secrets/key.txt'], needsHuman: true })]);
    expect(body.checks.state).toBe('failure');
    expect(body.checks.firstFailure).toMatch(/^not ok 2 - value is 2\n {2}expected 1/);
    expect(body.checks.log).toContain('ok 3 - c');
    expect(body.checks.runs).toEqual([expect.objectContaining({ state: 'failure', pr: 1 })]);
    expect(body.costByRole).toEqual({ planner: 0.1, worker: 0.75 });
  });

  it('GET /tasks/:id/timeline and /timeline: states with durations, rounds and the fix loop', async () => {
    const { body } = await json('/api/v1/tasks/T0-1/timeline');
    expect(body.segments.map((s: { state: string }) => s.state)).toEqual(['queued', 'planning', 'waiting', 'provisioning', 'working', 'shipping', 'checks', 'rejected', 'waiting', 'provisioning', 'working', 'reviewing']);
    expect(body.segments[4]).toEqual(expect.objectContaining({ state: 'working', phase: 'working', round: 1, from: T0 + 4 * 60_000, to: T0 + 10 * 60_000 }));
    expect(body.segments.at(-1)).toEqual(expect.objectContaining({ state: 'reviewing', phase: 'review', round: 2, to: null }));
    expect(body).toEqual(expect.objectContaining({ rounds: 2, fixes: 1 }));
    const all = await json('/api/v1/timeline?hours=24');
    expect(all.body.tasks.map((t: { task: string }) => t.task)).toEqual(['T0-1']);
    expect(all.body.phases).toEqual(['queued', 'planning', 'working', 'checks', 'review', 'merge', 'done']);
    expect((await json('/api/v1/timeline?hours=abc')).status).toBe(400);
  });

  it('GET /tasks/:id/transcript: stream events as items, read on from the offset as the file grows', async () => {
    const file = seed.stream;
    const first = await json('/api/v1/tasks/T0-1/transcript');
    expect(first.body.files.map((f: { name: string; role: string }) => [f.name, f.role])).toEqual([['worker-a0-f0.ndjson', 'worker']]);
    expect(first.body.items.map((i: { kind: string }) => i.kind)).toEqual(['session', 'text', 'tool']);
    expect(first.body.items[2]).toEqual({ kind: 'tool', id: 'tu1', name: 'Read', input: { file_path: 'src/value.js', api_key: '[redacted]' } });
    // A half-written line waits for its newline.
    appendFileSync(file, line({ type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'tu1', content: 'value: 1', is_error: false }] } }) + '{"type":"result","is_err');
    const second = await json(`/api/v1/tasks/T0-1/transcript?file=worker-a0-f0.ndjson&offset=${first.body.next}`);
    expect(second.body.items).toEqual([{ kind: 'tool_result', id: 'tu1', output: 'value: 1', isError: false }]);
    appendFileSync(file, 'or":true,"subtype":"error_max_turns","total_cost_usd":0.5,"permission_denials":[{"tool_name":"Bash","tool_input":{"command":"curl x"}}]}\n');
    const third = await json(`/api/v1/tasks/T0-1/transcript?file=worker-a0-f0.ndjson&offset=${second.body.next}`);
    expect(third.body.items).toEqual([
      { kind: 'denial', name: 'Bash', input: { command: 'curl x' } },
      expect.objectContaining({ kind: 'result', ok: false, costUsd: 0.5 }),
    ]);
    expect((await json('/api/v1/tasks/T0-1/transcript?file=../../oxi.db')).status).toBe(404);
    expect((await json('/api/v1/tasks/T0-1/transcript?offset=-1')).status).toBe(400);
  });

  it('the transcript of a task whose logs the janitor removed says so, with when and what to do', async () => {
    const before = await json('/api/v1/tasks/T0-3/transcript');
    expect(before.body.note).toBeUndefined();
    await sweepLogs({ db, adapter: seed.adapter, now: T0 + 15 * 86_400_000 });
    const after = await json('/api/v1/tasks/T0-3/transcript');
    expect(after.status).toBe(200);
    expect(after.body.files).toEqual([]);
    expect(after.body.logsRemovedAt).toBe(new Date(T0 + 15 * 86_400_000).toISOString());
    expect(after.body.note).toContain('The agent logs of task T0-3 were removed by the janitor');
    expect(after.body.note).toContain('engine.janitor.logsKeepMs');
  });

  it('bad percent-encoding in a path is a 400, not a crash', async () => {
    for (const path of ['/api/v1/tasks/%E0%A4%A/diff', '/api/v1/tasks/%ZZ', '/api/v1/actors/%/journal']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(400);
      expect((await res.json()).error).toMatch(/not valid percent-encoding/);
    }
    const post = await fetch(`${base}/api/v1/tasks/%E0%A4%A/retry`, { method: 'POST', headers: { authorization: `Bearer ${'t'.repeat(24)}` }, body: '{}' });
    expect(post.status).toBe(400);
  });

  it('a local-forge PR link opens a rendered page: escaped title, checks, first failure, comments, files', async () => {
    const snap = (await json('/api/v1/snapshot')).body;
    const pr = snap.tasks.find((t: { id: string }) => t.id === 'T0-1').pr;
    expect(pr).toEqual({ number: 1, url: '/prs/1' });
    const res = await fetch(`${base}${pr.url}`);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await res.text();
    expect(html).toContain('Change the value &lt;b&gt;');
    expect(html).not.toContain('Change the value <b>');
    expect(html).toMatch(/data-testid="pr-checks">failure</);
    expect(html).toContain('not ok 2 - value is 2');
    expect(html).toMatch(/<code>secrets\/key\.txt<\/code>.*class="scope blocked"/);
    expect((await fetch(`${base}/prs/99`)).status).toBe(404);
  });

  it('serves the layout library from its package, and marks retryable tasks (pr_backoff too)', async () => {
    const elk = await fetch(`${base}/vendor/elk.js`);
    expect(elk.status).toBe(200);
    expect(await elk.text()).toMatch(/ELK/);
    db.prepare(`UPDATE tasks SET status='pr_backoff' WHERE id='T0-2'`).run();
    const tasks = (await json('/api/v1/tasks')).body.tasks;
    expect(Object.fromEntries(tasks.map((t: { id: string; retryable: boolean }) => [t.id, t.retryable]))).toEqual({ 'T0-1': false, 'T0-2': true, 'T0-3': false });
  });
});

