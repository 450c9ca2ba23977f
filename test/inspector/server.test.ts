import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createActor, createMachine } from 'xstate';
import { createWebSocketInspector } from '@statelyai/inspect';
import { resolveToken } from '../../inspector/auth.js';
import { startDashboard, type DashboardServer } from '../../inspector/server.js';
import { snapshotSchema } from '../../inspector/snapshot.js';
import { validateConfig } from '../../src/config/validate.js';
import { DashboardError } from '../../src/errors.js';
import { killFilePath } from '../../src/runtime/killswitch.js';
import { openDb, type Db } from '../../src/store/db.js';
import { readKillswitch } from '../../src/store/engine-state.js';
import { appendEvent } from '../../src/store/ledger.js';
import { getTask, ingestItems } from '../../src/store/tasks.js';
import { oxi, sampleProject, spawnOxi, waitFor } from '../helpers/project.js';
import { nextMessage, openSocket, type Socket } from '../helpers/ws.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-dash-'));
const adapter = validateConfig({ name: 'dash', engine: { dashboard: { port: 0 } } }, { configPath: join(dir, 'oxi.config.json') });
let db: Db;
const servers: DashboardServer[] = [];
const sockets: Socket[] = [];
const TOKEN = { value: 'test-token-0123456789abcdef', generated: true };

beforeAll(() => {
  db = openDb(adapter.paths.db);
  const now = Date.now();
  ingestItems(db, [
    { id: 'T0-1', repo: 'dash', tier: 0, title: 'First', description: 'one', seq: 1 },
    { id: 'T0-2', repo: 'dash', tier: 0, title: 'Second', description: 'two', seq: 2 },
    { id: 'T0-3', repo: 'dash', tier: 0, title: 'Third', description: 'three', seq: 3 },
  ], now);
  db.prepare(`UPDATE tasks SET status='working', host='local', cost_usd=0.25 WHERE id='T0-1'`).run();
  db.prepare(`UPDATE tasks SET status='abandoned', reason='agent failed: boom' WHERE id='T0-2'`).run();
  db.prepare(`UPDATE tasks SET status='merged', pr=7 WHERE id='T0-3'`).run();
  db.prepare(`INSERT INTO actor_snapshot (actor, machine, status, value, snapshot, seq, updated_at) VALUES ('task:T0-1', 'task', 'active', ?, ?, 1, ?)`).run(
    JSON.stringify({ live: 'working' }),
    JSON.stringify({ value: { live: 'working' }, context: { id: 'T0-1', apiToken: 'must-not-leak', plan: { files_touched: ['a.js'] } } }),
    now,
  );
  appendEvent(db, { at: now, actor: 'task:T0-1', kind: 'task.planning', task: 'T0-1', payload: { from: 'new', event: 'xstate.init' } });
  appendEvent(db, { at: now, actor: 'task:T0-1', kind: 'task.working', task: 'T0-1', payload: { from: 'provisioning', event: 'xstate.done.actor.provision' } });
  appendEvent(db, { at: now, actor: 'task:T0-1', kind: 'spend', task: 'T0-1', payload: { usd: 0.25 } });
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.ws.terminate();
  for (const s of servers.splice(0)) await s.close();
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(options: { bind?: string; inspect?: boolean } = {}) {
  const server = await startDashboard({ db, adapter, token: TOKEN, port: 0, pollMs: 50, ...options });
  servers.push(server);
  return { server, base: `http://127.0.0.1:${server.port}` };
}
async function socket(url: string, headers?: Record<string, string>) {
  const s = await openSocket(url, headers);
  sockets.push(s);
  return s;
}
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const bearer = { authorization: `Bearer ${TOKEN.value}` };

describe('snapshot API', () => {
  it('GET /api/v1/snapshot follows oxi.snapshot.v1: engine, hosts, tasks, spend', async () => {
    const { base } = await serve();
    const res = await fetch(`${base}/api/v1/snapshot`);
    expect(res.status).toBe(200);
    const snap = snapshotSchema.parse(await res.json());
    expect(snap.schema).toBe('oxi.snapshot.v1');
    expect(snap.engine).toEqual(expect.objectContaining({ state: 'stopped', killed: false, attached: false }));
    expect(snap.hosts).toEqual([{ name: 'local', capacity: 2, inUse: 1, blocked: false }]);
    expect(snap.spend).toEqual(expect.objectContaining({ today: 0.25, dailySoftUsd: 20, dailyHardUsd: 50, currency: 'USD' }));
    const byId = Object.fromEntries(snap.tasks.map((t) => [t.id, t]));
    expect(byId['T0-1']).toEqual(expect.objectContaining({ phase: 'in_flight', status: 'working', host: 'local', costUsd: 0.25, attempts: 1 }));
    expect(byId['T0-2']).toEqual(expect.objectContaining({ phase: 'completed', reason: 'agent failed: boom' }));
    expect(byId['T0-3'].pr).toEqual({ number: 7, url: '/prs/7' });
  });

  it('serves tasks, journals (transitions spelled out, secrets redacted), machines, and 404s', async () => {
    const { base } = await serve();
    const tasks = await (await fetch(`${base}/api/v1/tasks?phase=completed`)).json();
    expect(tasks.schema).toBe('oxi.tasks.v1');
    expect(tasks.tasks.map((t: { id: string }) => t.id)).toEqual(['T0-2', 'T0-3']);
    const journal = await (await fetch(`${base}/api/v1/tasks/T0-1/journal`)).json();
    expect(journal.entries.map((e: { from: string; to: string; kind: string }) => [e.from, e.to, e.kind])).toEqual([
      ['new', 'planning', 'task.planning'],
      ['provisioning', 'working', 'task.working'],
      [null, null, 'spend'],
    ]);
    expect(journal.current.value).toEqual({ live: 'working' });
    expect(journal.current.context.apiToken).toBe('[redacted]');
    const graph = await (await fetch(`${base}/api/v1/machines/task`)).json();
    const ids: string[] = [];
    const walk = (n: { id: string; children: unknown[] }) => (ids.push(n.id), n.children.forEach((c) => walk(c as never)));
    walk(graph.root);
    expect(ids).toEqual(expect.arrayContaining(['task.live.planning', 'task.live.working', 'task.held', 'task.merged']));
    expect(graph.edges).toContainEqual({ source: 'task.live.backoff', target: 'task.live.waiting', event: 'task.retry', guards: ['hasPlan'] });
    expect(graph.edges).toContainEqual({ source: 'task.live.backoff', target: 'task.live.planning', event: 'task.retry', guards: [] });
    expect((await fetch(`${base}/api/v1/tasks/NOPE/journal`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/machines/nope`)).status).toBe(404);
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await page.text()).toMatch(/<script type="module" src="\/assets\/app.js">/);
  });
});

describe('token checks', () => {
  it('every action needs the token, even on loopback; the right one kills, unkills and retries like the CLI', async () => {
    const { base } = await serve();
    const none = await post(`${base}/api/v1/kill`, { reason: 'no token' });
    expect(none.status).toBe(401);
    expect((await none.json()).error).toMatch(/need the dashboard token/);
    expect((await post(`${base}/api/v1/kill`, { reason: 'bad token' }, { authorization: 'Bearer nope' })).status).toBe(403);
    expect((await post(`${base}/api/v1/tasks/T0-2/retry`, {})).status).toBe(401);
    expect(readKillswitch(db).killed).toBe(false);
    expect(getTask(db, 'T0-2')!.status).toBe('abandoned');

    expect((await post(`${base}/api/v1/kill`, {}, bearer)).status).toBe(400);
    const killed = await post(`${base}/api/v1/kill`, { reason: 'from the page' }, bearer);
    expect(killed.status).toBe(200);
    expect(readKillswitch(db)).toEqual(expect.objectContaining({ killed: true, reason: 'from the page', hard: false }));
    expect(existsSync(killFilePath(adapter.paths.stateDir))).toBe(true);
    expect((await (await fetch(`${base}/api/v1/snapshot`)).json()).engine).toEqual(expect.objectContaining({ state: 'killed', reason: 'from the page' }));
    expect((await post(`${base}/api/v1/unkill`, {}, bearer)).status).toBe(200);
    expect(readKillswitch(db).killed).toBe(false);
    expect(existsSync(killFilePath(adapter.paths.stateDir))).toBe(false);

    const retried = await post(`${base}/api/v1/tasks/T0-2/retry`, {}, bearer);
    expect(await retried.json()).toEqual(expect.objectContaining({ retried: 'T0-2', via: 'requeue' }));
    expect(getTask(db, 'T0-2')!.status).toBe('queued');
    expect((await post(`${base}/api/v1/tasks/T0-3/retry`, {}, bearer)).status).toBe(409);
    expect((await post(`${base}/api/v1/tasks/NOPE/retry`, {}, bearer)).status).toBe(404);
  });

  it('off loopback every read needs the token too, and no response ever carries it', async () => {
    const { server, base } = await serve({ bind: '0.0.0.0' });
    expect((await fetch(`${base}/api/v1/snapshot`)).status).toBe(401);
    const ok = await fetch(`${base}/api/v1/snapshot`, { headers: bearer });
    expect(ok.status).toBe(200);
    expect(await ok.text()).not.toContain(TOKEN.value);
    await expect(openSocket(`ws://127.0.0.1:${server.port}/ws`)).rejects.toThrow(/401/);
    const s = await socket(`ws://127.0.0.1:${server.port}/ws?token=${TOKEN.value}`);
    expect(JSON.stringify(await nextMessage(s, 'hello'))).not.toContain(TOKEN.value);
  });

  it('takes the token from the variable the adapter names, refusing a missing or short one', () => {
    expect(resolveToken('OXI_DASH_T', { OXI_DASH_T: 'x'.repeat(20) })).toEqual({ value: 'x'.repeat(20), generated: false });
    expect(() => resolveToken('OXI_DASH_T', {})).toThrow(DashboardError);
    expect(() => resolveToken('OXI_DASH_T', { OXI_DASH_T: 'short' })).toThrow(/only 5 characters/);
    const a = resolveToken(undefined), b = resolveToken(undefined);
    expect(a.generated).toBe(true);
    expect(a.value).not.toBe(b.value);
    expect(a.value.length).toBeGreaterThanOrEqual(32);
  });
});

describe('origin checks', () => {
  it('refuses websocket upgrades and actions from another origin, and a foreign Host (DNS rebinding)', async () => {
    const { server, base } = await serve();
    const url = `ws://127.0.0.1:${server.port}/ws`;
    await expect(openSocket(url, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const same = await socket(url, { origin: `http://127.0.0.1:${server.port}` });
    expect((await nextMessage(same, 'hello')).type).toBe('hello');
    expect((await post(`${base}/api/v1/kill`, { reason: 'csrf' }, { ...bearer, origin: 'http://evil.example' })).status).toBe(403);
    expect(readKillswitch(db).killed).toBe(false);
    // fetch() will not forge a Host header; a raw request does, like a rebinding page's browser would.
    const rebound = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path: '/api/v1/snapshot', headers: { host: `evil.example:${server.port}` } }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject).end();
    });
    expect(rebound).toBe(403);
  });
});

describe('live feed', () => {
  it('pushes ledger rows and snapshot changes, and a reconnecting client gets the whole state again', async () => {
    const { server } = await serve();
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const first = await socket(url);
    const hello = await nextMessage(first, 'hello');
    expect(hello.snapshot.schema).toBe('oxi.snapshot.v1');
    expect(hello.ledger.map((r: { kind: string }) => r.kind).slice(0, 3)).toEqual(['task.planning', 'task.working', 'spend']);
    appendEvent(db, { at: Date.now(), actor: 'task:T0-1', kind: 'task.shipping', task: 'T0-1', payload: { from: 'working', event: 'xstate.done.actor.runAgent' } });
    const pushed = await nextMessage(first, 'ledger');
    expect(pushed.rows).toEqual([expect.objectContaining({ kind: 'task.shipping', from: 'working', to: 'shipping' })]);

    server.dropPages();
    await first.closed;
    db.prepare(`UPDATE tasks SET status='shipping', updated_at=updated_at+1 WHERE id='T0-1'`).run();
    const again = await socket(url);
    const rehello = await nextMessage(again, 'hello');
    expect(rehello.snapshot.tasks.find((t: { id: string }) => t.id === 'T0-1').status).toBe('shipping');
    expect(rehello.ledger.at(-1).kind).toBe('task.shipping');
  });

  it('a task that moved goes out alone (tasks), the rest of the snapshot as summary: the page never gets every task again', async () => {
    const { server } = await serve();
    const page = await socket(`ws://127.0.0.1:${server.port}/ws`);
    const hello = await nextMessage(page, 'hello');
    const before = hello.snapshot.tasks.find((t: { id: string }) => t.id === 'T0-1').status;
    const next = before === 'reviewing' ? 'checks' : 'reviewing';
    db.prepare(`UPDATE tasks SET status=?, updated_at=updated_at+1 WHERE id='T0-1'`).run(next);
    appendEvent(db, { at: Date.now(), actor: 'task:T0-1', kind: `task.${next}`, task: 'T0-1', payload: { from: before, event: 'x' } });
    const moved = await nextMessage(page, 'tasks', (m) => m.tasks.some((t: { id: string; status: string }) => t.id === 'T0-1' && t.status === next));
    expect(moved.tasks.map((t: { id: string }) => t.id)).toEqual(['T0-1']);
    const summary = await nextMessage(page, 'summary', (m) => m.summary.counts[next] === 1);
    expect(summary.summary).not.toHaveProperty('tasks');
    expect(summary.summary.schema).toBe('oxi.snapshot.v1');
    expect(page.queue.filter((m: { type: string }) => m.type === 'snapshot')).toEqual([]);
  });

  it('relays the @statelyai/inspect stream: the engine side publishes with the token, pages see the actors', async () => {
    const { server } = await serve({ inspect: true });
    const page = await socket(`ws://127.0.0.1:${server.port}/ws`);
    await nextMessage(page, 'hello');
    // A viewer without the token cannot inject events into the stream.
    const viewer = await socket(`ws://127.0.0.1:${server.port}/stately`);
    viewer.ws.send(JSON.stringify({ type: '@xstate.actor', sessionId: 'fake', name: 'forged', definition: '{"id":"forged"}' }));
    const inspector = createWebSocketInspector({ url: server.relayUrl! });
    const toggle = createMachine({ id: 'toggle', initial: 'off', states: { off: { on: { flip: 'on' } }, on: {} } });
    const actor = createActor(toggle, { inspect: inspector.inspect });
    actor.start();
    actor.send({ type: 'flip' });
    const seen = await nextMessage(page, 'inspect', (m) => m.event.type === '@xstate.snapshot' && m.event.value === 'on');
    expect(seen.event.event).toBe('flip');
    const sessions = (await (await fetch(`http://127.0.0.1:${server.port}/api/v1/inspection`)).json()).sessions;
    expect(sessions).toContainEqual(expect.objectContaining({ machine: 'toggle', value: 'on' }));
    expect(sessions.map((s: { name: string }) => s.name)).not.toContain('forged');
    actor.stop();
    inspector.stop();
  });
});

describe('oxi dashboard', () => {
  it('serves a project on its own until SIGTERM, and refuses a bad port with exit 2', async () => {
    const p = sampleProject({ tasks: 2 });
    try {
      const bad = oxi(['--config', p.configPath, 'dashboard', '--port', 'http']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--port: expected a whole number from 0 to 65535/);
      const child = spawnOxi(['--config', p.configPath, 'dashboard', '--port', '0']);
      try {
        const [, url] = await waitFor<RegExpExecArray>('the URL', () => /dashboard on (http:\/\/127\.0\.0\.1:\d+\/)#token=/.exec(child.output()) ?? undefined);
        const snap = snapshotSchema.parse(await (await fetch(`${url}api/v1/snapshot`)).json());
        expect(snap.engine).toEqual(expect.objectContaining({ state: 'stopped', attached: false }));
        expect((await post(`${url}api/v1/unkill`, {})).status).toBe(401);
        child.kill('SIGTERM');
        expect(await child.exited).toBe(0);
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      p.cleanup();
    }
  });
});
