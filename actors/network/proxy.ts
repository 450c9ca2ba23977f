/**
 * The allowlist proxy of one sandboxed session: an HTTP proxy on a unix socket that the sandbox's bridge
 * forwards to (the sandbox itself has no network). HTTPS goes through `CONNECT host:port` tunnels, plain
 * HTTP as absolute-URL requests; each is checked against the rules, and a refused one gets 403 and is
 * reported to `onDenied` (the ledger's `network.denied`: method, host and port only).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { allows, type AllowRule } from './policy.js';

export interface Denial {
  method: string;
  host: string;
  port: number;
  reason: string;
}

export interface ProxyOptions {
  socketPath: string;
  rules: readonly AllowRule[];
  onDenied: (denial: Denial) => void;
}

export interface RunningProxy {
  socketPath: string;
  close(): Promise<void>;
}

/** `host:port` of a CONNECT target; IPv6 in brackets. */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1].replace(/^\[|\]$/g, ''), port } : undefined;
}

const HOP_HEADERS = ['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade'];

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const sockets = new Set<Socket>();
  const deny = (d: Denial) => {
    try {
      options.onDenied(d);
    } catch {
      // Why: a ledger that cannot be written must not turn a refusal into a crash of the engine.
    }
  };

  const server: Server = createServer((req, res) => forward(req, res, options.rules, deny));
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = parseAuthority(req.url ?? '');
    client.on('error', () => undefined);
    if (!target) {
      deny({ method: 'CONNECT', host: req.url ?? '', port: 0, reason: 'not a host:port' });
      return void client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    }
    if (!allows(options.rules, { ...target, method: 'CONNECT' })) {
      deny({ method: 'CONNECT', ...target, reason: 'not in agents.network.allow' });
      return void client.end(refusal(target.host, target.port));
    }
    const upstream = connect(target.port, target.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => (sockets.delete(upstream), client.destroy()));
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    client.on('close', () => upstream.destroy());
  });
  server.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  rmSync(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => (server.off('error', reject), resolve()));
  });
  // The socket follows the umask: only the engine's user (its sandboxed agents run as it) may connect.
  chmodSync(options.socketPath, 0o600);
  // Why: an idle proxy must not keep a finishing `oxi tick` alive; its open connections still do.
  server.unref();
  return {
    socketPath: options.socketPath,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(options.socketPath, { force: true });
    },
  };
}

function refusal(host: string, port: number): string {
  const body = `oxi: ${host}:${port} is not in agents.network.allow; the attempt is recorded in the task's ledger.\n`;
  return `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** A plain-HTTP request by absolute URL: checked, then sent on without the proxy's own headers. */
function forward(req: IncomingMessage, res: ServerResponse, rules: readonly AllowRule[], deny: (d: Denial) => void): void {
  const method = req.method ?? 'GET';
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    deny({ method, host: req.headers.host ?? '', port: 0, reason: 'not an absolute URL (only a proxy request reaches the network)' });
    return void res.writeHead(400, { 'content-type': 'text/plain' }).end('oxi: send requests through the proxy with an absolute URL\n');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 80);
  if (url.protocol !== 'http:' || !allows(rules, { host, port, method })) {
    // Never the path, query or body: they may carry what the agent meant to send out.
    deny({ method, host, port, reason: url.protocol !== 'http:' ? `${url.protocol} is not proxied as plain HTTP` : 'not in agents.network.allow' });
    const body = `oxi: ${method} ${host}:${port} is not in agents.network.allow; the attempt is recorded in the task's ledger.\n`;
    return void res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end(body);
  }
  const headers = { ...req.headers };
  for (const h of HOP_HEADERS) delete headers[h];
  const upstream = httpRequest({ host, port, path: `${url.pathname}${url.search}`, method, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (e) => (res.headersSent ? res.destroy() : res.writeHead(502, { 'content-type': 'text/plain' }).end(`oxi proxy: ${e.message}\n`)));
  req.pipe(upstream);
}
