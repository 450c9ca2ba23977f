import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
import { createFeed, type Feed } from './feed.js';
import { createInspectionRelay, type InspectionRelay } from './relay.js';

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
  'shadow.js': 'text/javascript; charset=utf-8',
  'socket.js': 'text/javascript; charset=utf-8',
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

const NOT_LOOPBACK = 'This dashboard is not on loopback: every request needs Authorization: Bearer <token>.';

type Authorized = (req: IncomingMessage, allowQuery: boolean) => boolean;

/** What the request and socket handlers share: built once per dashboard. */
interface Routes {
  ctx: ApiContext;
  feed: Feed;
  relay?: InspectionRelay;
  assets: string;
  loopback: boolean;
  authorized: Authorized;
}

/** Reads: vendored scripts, the PR page, the static page and its assets, then the JSON API. */
async function handleGet(r: Routes, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  if (path === '/favicon.ico') return send(res, 204, '');
  if (path.startsWith('/vendor/') && Object.hasOwn(VENDOR, path.slice('/vendor/'.length))) {
    return send(res, 200, readFileSync(VENDOR[path.slice('/vendor/'.length)]), { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' });
  }
  const prMatch = /^\/prs\/(\d{1,9})$/.exec(path);
  if (prMatch) {
    if (!r.loopback && !r.authorized(req, false)) return send(res, 401, { error: NOT_LOOPBACK });
    const html = await prPage(r.ctx.db, r.ctx.adapter, Number(prMatch[1]));
    if (!html) return send(res, 404, { error: `Pull request #${prMatch[1]} not found.` });
    return send(res, 200, html, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP });
  }
  if (!path.startsWith('/api/')) {
    const file = path === '/' ? 'index.html' : path === '/stately' ? 'stately.html' : path.startsWith('/assets/') ? path.slice('/assets/'.length) : '';
    if (!Object.hasOwn(ASSETS, file)) return send(res, 404, { error: `No page at ${path}.` });
    const csp = file === 'stately.html' ? STATELY_CSP : PAGE_CSP;
    return send(res, 200, readFileSync(join(r.assets, file)), { 'content-type': ASSETS[file], 'content-security-policy': csp });
  }
  if (!r.loopback && !r.authorized(req, false)) return send(res, 401, { error: NOT_LOOPBACK });
  const result = (await taskApi(r.ctx, path, url.searchParams)) ?? readApi(r.ctx, path, url.searchParams);
  return send(res, result.status, result.body);
}

/** Actions: same-origin, token always required, then the feed is refreshed so pages see the effect at once. */
async function handleAction(r: Routes, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  if (!originAllowed(req)) return send(res, 403, { error: `Origin ${req.headers.origin} may not act on this dashboard.` });
  if (!presentedToken(req, false)) {
    return send(res, 401, { error: 'Actions need the dashboard token: Authorization: Bearer <token>.', fix: 'Use the token printed when the dashboard started (or the one in the adapter\'s engine.dashboard.tokenEnv variable).' });
  }
  if (!r.authorized(req, false)) return send(res, 403, { error: 'The dashboard token does not match.' });
  let body: unknown;
  try {
    body = await readBody(req);
  } catch (error) {
    return send(res, 400, { error: `Expected a JSON body: ${(error as Error).message}.` });
  }
  const result = await actionApi(r.ctx, path, body, `dashboard@${req.socket.remoteAddress ?? 'unknown'}`);
  r.feed.refresh();
  return send(res, result.status, result.body);
}

async function handleRequest(r: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!hostAllowed(req, r.loopback)) return send(res, 403, { error: `Host ${JSON.stringify(req.headers.host ?? '')} is not allowed: open the dashboard by a loopback address.` });
  const url = new URL(req.url ?? '/', 'http://dashboard');
  if (req.method === 'GET') return handleGet(r, req, res, url);
  if (req.method === 'POST') return handleAction(r, req, res, url.pathname);
  return send(res, 405, { error: `${req.method} is not supported here: use GET for reads, POST for actions.` });
}

/** Upgrades to the page socket (/ws) and the Stately relay (/stately), with the same Host/Origin/token checks as HTTP. */
function acceptSockets(http: Server, r: Routes) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  const pages = new Set<WebSocket>();
  http.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const refuse = (code: number, why: string) => {
      socket.end(`HTTP/1.1 ${code} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!hostAllowed(req, r.loopback) || !originAllowed(req)) return refuse(403, 'Forbidden');
    const hasToken = r.authorized(req, true);
    if (!r.loopback && !hasToken) return refuse(401, 'Unauthorized');
    const relay = r.relay;
    if (path === '/ws') {
      wss.handleUpgrade(req, socket, head, (ws) => {
        pages.add(ws);
        const off = r.feed.subscribe((m) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m)));
        ws.on('close', () => (pages.delete(ws), off()));
        ws.on('error', () => ws.terminate());
        ws.send(JSON.stringify(r.feed.hello()));
      });
    } else if (path === '/stately' && relay) {
      wss.handleUpgrade(req, socket, head, (ws) => relay.attach(ws, hasToken));
    } else refuse(404, 'Not Found');
  });
  return { wss, pages };
}

function listenOn(http: Server, bind: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new DashboardError(`The dashboard could not listen on ${bind}:${port}: ${error.code ?? error.message}.`, {
          fix: 'Pick another port (--port, or engine.dashboard.port in the adapter; 0 picks a free one).',
        }),
      ),
    );
    http.listen(port, bind, () => resolve());
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
  const authorized: Authorized = (req, allowQuery) => tokenMatches(token.value, presentedToken(req, allowQuery));
  const routes: Routes = { ctx, feed, relay, assets, loopback, authorized };

  const http = createServer((req, res) => {
    handleRequest(routes, req, res).catch((error) => (error instanceof BadPath ? send(res, 400, { error: error.message }) : send(res, 500, { error: `dashboard: ${(error as Error).message}` })));
  });
  const { wss, pages } = acceptSockets(http, routes);

  await listenOn(http, bind, options.port ?? adapter.engine.dashboard.port);
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
