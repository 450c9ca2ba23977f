/**
 * The allowlist proxy on its unix socket, driven as the sandbox's bridge drives it: CONNECT tunnels and plain
 * absolute-URL requests, to a real HTTP server on loopback; refusals answered 403 and written to a real ledger.
 */
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRule } from '../../../actors/network/policy.js';
import { startProxy, type Denial, type RunningProxy } from '../../../actors/network/proxy.js';
import { endAllNetworks, resumeNetwork, serveNetwork, servedSessions, sessionDir, SOCKET_NAME } from '../../../actors/network/registry.js';
import { openDb } from '../../../src/store/db.js';
import { listEvents } from '../../../src/store/ledger.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function upstream(): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} proxy-authorization=${req.headers['proxy-authorization'] ?? '-'}`);
    res.end(`hello from ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as AddressInfo).port, seen };
}

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-proxy-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A plain proxy request by absolute URL over the socket: status and body. */
function plain(socketPath: string, url: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: url, method, headers: { host: new URL(url).host, 'proxy-authorization': 'Basic c2VjcmV0' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** CONNECT host:port, then (if the tunnel opens) a GET through it: the tunnel's status and the body. */
function tunnel(socketPath: string, authority: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'CONNECT', path: authority });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) return resolve({ status: res.statusCode ?? 0, body: '' });
      let body = '';
      socket.on('data', (d) => (body += d));
      socket.on('end', () => resolve({ status: 200, body }));
      socket.write(`GET /through-tunnel HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('allowlist proxy', () => {
  it('tunnels and forwards to allowed host:port; refuses the rest with 403 and reports each refusal', async () => {
    const allowed = await upstream();
    const internet = await upstream();
    const denials: Denial[] = [];
    const socketPath = join(scratch(), SOCKET_NAME);
    const proxy: RunningProxy = await startProxy({ socketPath, rules: [parseRule(`127.0.0.1:${allowed.port}`), parseRule({ host: 'localhost', port: internet.port, methods: ['GET'] })], onDenied: (d) => denials.push(d) });
    cleanups.push(() => proxy.close());

    expect(await tunnel(socketPath, `127.0.0.1:${allowed.port}`)).toMatchObject({ status: 200, body: expect.stringContaining('hello from /through-tunnel') });
    expect(await plain(socketPath, `http://127.0.0.1:${allowed.port}/v1/messages`, 'POST')).toEqual({ status: 200, body: 'hello from /v1/messages' });
    // The proxy's own headers stay with the proxy.
    expect(allowed.seen).toContain('POST /v1/messages proxy-authorization=-');

    expect(await tunnel(socketPath, `127.0.0.1:${internet.port}`)).toMatchObject({ status: 403 });
    const refused = await plain(socketPath, `http://127.0.0.1:${internet.port}/exfil?data=1`, 'POST');
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('not in agents.network.allow');
    // Allowed host and port, but not that method.
    expect((await plain(socketPath, `http://localhost:${internet.port}/upload`, 'PUT')).status).toBe(403);
    expect((await plain(socketPath, `http://localhost:${internet.port}/ok`, 'GET')).status).toBe(200);
    expect(internet.seen).toEqual(['GET /ok proxy-authorization=-']);
    expect(denials).toEqual([
      { method: 'CONNECT', host: '127.0.0.1', port: internet.port, reason: 'not in agents.network.allow' },
      { method: 'POST', host: '127.0.0.1', port: internet.port, reason: 'not in agents.network.allow' },
      { method: 'PUT', host: 'localhost', port: internet.port, reason: 'not in agents.network.allow' },
    ]);
  });

  it('a session proxy records refusals as network.denied in the task ledger, and serves again after a restart from its saved rules', async () => {
    const stateDir = scratch();
    const dbPath = join(stateDir, 'oxi.db');
    const internet = await upstream();
    const session = { stateDir, db: dbPath, taskId: 'T7', role: 'worker' };
    const lease = await serveNetwork(session, [parseRule('api.anthropic.com')]);
    cleanups.push(() => endAllNetworks());
    expect(lease.dir).toBe(sessionDir(session));
    const socketPath = join(lease.dir, SOCKET_NAME);
    expect((await tunnel(socketPath, `127.0.0.1:${internet.port}`)).status).toBe(403);
    const db = openDb(dbPath);
    cleanups.push(() => db.close());
    const rows = listEvents(db, { task: 'T7', kindPrefix: 'network.' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'network', kind: 'network.denied', task: 'T7' });
    expect(JSON.parse(rows[0].payload)).toEqual({ role: 'worker', method: 'CONNECT', host: '127.0.0.1', port: internet.port, reason: 'not in agents.network.allow' });

    // The engine goes away (its proxies with it); a new one adopting the worker serves the same path and rules.
    await lease.release();
    expect(servedSessions()).toEqual([]);
    await expect(tunnel(socketPath, `127.0.0.1:${internet.port}`)).rejects.toThrow();
    const again = await resumeNetwork(session);
    expect(again?.dir).toBe(lease.dir);
    expect((await plain(socketPath, `http://127.0.0.1:${internet.port}/x`)).status).toBe(403);
    expect(listEvents(db, { task: 'T7', kindPrefix: 'network.' })).toHaveLength(2);
    // A session never served (open network) has nothing to resume.
    expect(await resumeNetwork({ ...session, taskId: 'T8' })).toBeUndefined();
  });

  it('a state dir too deep for a socket path gets a private directory under the temp dir', () => {
    const deep = join('/tmp', 'x'.repeat(120));
    const dir = sessionDir({ stateDir: deep, taskId: 'T1', role: 'worker' });
    expect(join(dir, SOCKET_NAME).length).toBeLessThanOrEqual(107);
    expect(dir.startsWith(tmpdir())).toBe(true);
    expect(sessionDir({ stateDir: '/s', taskId: 'T1', role: 'planner' })).toBe('/s/net/T1-planner');
  });
});
