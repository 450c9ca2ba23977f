import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import type { Adapter } from '../src/config/schema.js';
import { DashboardError } from '../src/errors.js';
import type { EngineHandle } from '../src/runtime/engine.js';
import type { Db } from '../src/store/db.js';
import { createRequire } from 'node:module';
import { actionApi, readApi, type ApiContext } from './api.js';
import { prPage } from './task/pr-page.js';
import { BadPath, taskApi } from './task-api.js';
import { hostAllowed, isLoopback, originAllowed, presentedToken, tokenMatches, type DashboardToken } from './auth.js';
import { createFeed } from './feed.js';
import { createInspectionRelay } from './relay.js';

export interface DashboardOptions {
  db: Db;
  adapter: Adapter;
  engine?: EngineHandle;
  token: DashboardToken;
  port?: number;
  bind?: string;
  /** Serve the Stately inspector relay on /stately and stream it to the page. */
  inspect?: boolean;
  pollMs?: number;
}

// The page needs no build step: plain files served as they are.
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'stately.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'chart.js': 'text/javascript; charset=utf-8',
  'util.js': 'text/javascript; charset=utf-8',
  'list.js': 'text/javascript; charset=utf-8',
  'header.js': 'text/javascript; charset=utf-8',
  'detail.js': 'text/javascript; charset=utf-8',
  'diff.js': 'text/javascript; charset=utf-8',
  'transcript.js': 'text/javascript; charset=utf-8',
  'timeline.js': 'text/javascript; charset=utf-8',
  'stately.js': 'text/javascript; charset=utf-8',
  'say.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};
const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const STATELY_CSP = PAGE_CSP.replace("default-src 'self';", "default-src 'self'; frame-src https://stately.ai;");
const MAX_BODY = 16 * 1024;
// The graph layout library, served from node_modules: the page works offline, with no CDN. Its
// API runs on the page, the layout itself in a web worker, so the live view never stalls.
const requireHere = createRequire(import.meta.url);
const VENDOR: Record<string, string> = { 'elk.js': requireHere.resolve('elkjs/lib/elk-api.js'), 'elk-worker.js': requireHere.resolve('elkjs/lib/elk-worker.min.js') };

function publicDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From source (inspector/) or from the build (dist/inspector/): the assets stay in the source tree.
  for (const dir of [join(here, 'public'), join(here, '..', '..', 'inspector', 'public')]) if (existsSync(join(dir, 'index.html'))) return dir;
  throw new DashboardError(`The dashboard page is missing: no index.html next to ${here}.`, { fix: 'Reinstall oxi (the inspector/public folder ships with it).' });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new Error(`body larger than ${MAX_BODY} bytes`)), req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new Error('the body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

/**
 * The dashboard: the page, the /api/v1 snapshot API and actions, the live socket (/ws) and the
 * Stately relay (/stately). Loopback by default; every action needs the token; off loopback
 * every read needs it too; Host and Origin are checked so other web pages cannot drive it.
 */
export async function startDashboard(options: DashboardOptions) {
  const { db, adapter, engine, token } = options;
  const bind = options.bind ?? adapter.engine.dashboard.bind;
  const loopback = isLoopback(bind);
  const assets = publicDir();
  const relay = options.inspect ? createInspectionRelay() : undefined;
  const feed = createFeed({ db, adapter, engine, relay, inspecting: options.inspect, pollMs: options.pollMs });
  const ctx: ApiContext = { db, adapter, engine, relay, inspecting: Boolean(options.inspect) };
  const authorized = (req: IncomingMessage, allowQuery: boolean) => tokenMatches(token.value, presentedToken(req, allowQuery));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req, loopback)) return send(res, 403, { error: `Host ${JSON.stringify(req.headers.host ?? '')} is not allowed: open the dashboard by a loopback address.` });
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/favicon.ico') return send(res, 204, '');
    if (req.method === 'GET' && path.startsWith('/vendor/') && Object.hasOwn(VENDOR, path.slice('/vendor/'.length))) {
      return send(res, 200, readFileSync(VENDOR[path.slice('/vendor/'.length)]), { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' });
    }
    const prMatch = /^\/prs\/(\d{1,9})$/.exec(path);
    if (req.method === 'GET' && prMatch) {
      if (!loopback && !authorized(req, false)) return send(res, 401, { error: 'This dashboard is not on loopback: every request needs Authorization: Bearer <token>.' });
      const html = await prPage(db, adapter, Number(prMatch[1]));
      if (!html) return send(res, 404, { error: `Pull request #${prMatch[1]} not found.` });
      return send(res, 200, html, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP });
    }
    if (req.method === 'GET' && !path.startsWith('/api/')) {
      const file = path === '/' ? 'index.html' : path === '/stately' ? 'stately.html' : path.startsWith('/assets/') ? path.slice('/assets/'.length) : '';
      if (!Object.hasOwn(ASSETS, file)) return send(res, 404, { error: `No page at ${path}.` });
      const csp = file === 'stately.html' ? STATELY_CSP : PAGE_CSP;
      return send(res, 200, readFileSync(join(assets, file)), { 'content-type': ASSETS[file], 'content-security-policy': csp });
    }
    if (req.method === 'GET') {
      if (!loopback && !authorized(req, false)) return send(res, 401, { error: 'This dashboard is not on loopback: every request needs Authorization: Bearer <token>.' });
      const r = (await taskApi(ctx, path, url.searchParams)) ?? readApi(ctx, path, url.searchParams);
      return send(res, r.status, r.body);
    }
    if (req.method === 'POST') {
      if (!originAllowed(req)) return send(res, 403, { error: `Origin ${req.headers.origin} may not act on this dashboard.` });
      if (!presentedToken(req, false)) {
        return send(res, 401, { error: 'Actions need the dashboard token: Authorization: Bearer <token>.', fix: 'Use the token printed when the dashboard started (or the one in the adapter\'s engine.dashboard.tokenEnv variable).' });
      }
      if (!authorized(req, false)) return send(res, 403, { error: 'The dashboard token does not match.' });
      let body: unknown;
      try {
        body = await readBody(req);
      } catch (error) {
        return send(res, 400, { error: `Expected a JSON body: ${(error as Error).message}.` });
      }
      const r = await actionApi(ctx, path, body, `dashboard@${req.socket.remoteAddress ?? 'unknown'}`);
      feed.refresh();
      return send(res, r.status, r.body);
    }
    return send(res, 405, { error: `${req.method} is not supported here: use GET for reads, POST for actions.` });
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((error) => (error instanceof BadPath ? send(res, 400, { error: error.message }) : send(res, 500, { error: `dashboard: ${(error as Error).message}` })));
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  const pages = new Set<WebSocket>();

  http.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const refuse = (code: number, why: string) => {
      socket.end(`HTTP/1.1 ${code} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!hostAllowed(req, loopback) || !originAllowed(req)) return refuse(403, 'Forbidden');
    const hasToken = authorized(req, true);
    if (!loopback && !hasToken) return refuse(401, 'Unauthorized');
    if (path === '/ws') {
      wss.handleUpgrade(req, socket, head, (ws) => {
        pages.add(ws);
        const off = feed.subscribe((m) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m)));
        ws.on('close', () => (pages.delete(ws), off()));
        ws.on('error', () => ws.terminate());
        ws.send(JSON.stringify(feed.hello()));
      });
    } else if (path === '/stately' && relay) {
      wss.handleUpgrade(req, socket, head, (ws) => relay.attach(ws, hasToken));
    } else refuse(404, 'Not Found');
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new DashboardError(`The dashboard could not listen on ${bind}:${options.port ?? adapter.engine.dashboard.port}: ${error.code ?? error.message}.`, {
          fix: 'Pick another port (--port, or engine.dashboard.port in the adapter; 0 picks a free one).',
        }),
      ),
    );
    http.listen(options.port ?? adapter.engine.dashboard.port, bind, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const host = bind.includes(':') ? `[${bind}]` : bind === '0.0.0.0' ? '127.0.0.1' : bind;
  const url = `http://${host}:${port}/`;

  return {
    url,
    port,
    token,
    /** Where the engine's @statelyai/inspect client publishes (it carries the token to be allowed to). */
    relayUrl: relay ? `ws://${host}:${port}/stately?token=${encodeURIComponent(token.value)}` : undefined,
    feed,
    relay,
    /** Hands the engine to the API and the feed once it runs (`oxi run` starts the server first). */
    attach(next: EngineHandle): void {
      ctx.engine = next;
      feed.attach(next);
    },
    /** Cuts every page's socket (they reconnect by themselves). */
    dropPages(): void {
      for (const ws of pages) ws.terminate();
    },
    async close(): Promise<void> {
      feed.close();
      relay?.close();
      for (const ws of pages) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export type DashboardServer = Awaited<ReturnType<typeof startDashboard>>;
