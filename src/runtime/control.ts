import { createHash } from 'node:crypto';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonError } from '../errors.js';
import { FILE_MODE } from '../fs-private.js';

export type ControlRequest =
  | { op: 'ping' }
  | { op: 'send'; actor: string; event: { type: string; [k: string]: unknown } }
  | { op: 'status' };

export type ControlResponse = { ok: true; [k: string]: unknown } | { ok: false; error: string };

/** The daemon's local control channel: a unix socket under the state dir (or tmp when that path is too long). */
export function socketPath(stateDir: string): string {
  const preferred = join(stateDir, 'oxi.sock');
  // sun_path is limited to ~107 bytes.
  if (Buffer.byteLength(preferred) < 100) return preferred;
  return join(tmpdir(), `oxi-${createHash('sha1').update(stateDir).digest('hex').slice(0, 12)}.sock`);
}

export function serveControl(path: string, handle: (req: ControlRequest) => ControlResponse | Promise<ControlResponse>): Promise<Server> {
  if (existsSync(path)) rmSync(path, { force: true }); // a stale socket of a dead daemon (the PID file check ran first)
  const server = createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        void (async () => {
          let res: ControlResponse;
          try {
            res = await handle(JSON.parse(line) as ControlRequest);
          } catch (error) {
            res = { ok: false, error: (error as Error).message };
          }
          socket.write(JSON.stringify(res) + '\n');
        })();
      }
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Connecting needs write permission on the socket: the engine user's alone.
    server.listen(path, () => (chmodSync(path, FILE_MODE), resolve(server)));
  });
}

/** One request to the running daemon; a clear error when none runs. */
export function callDaemon(stateDir: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlResponse> {
  const path = socketPath(stateDir);
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DaemonError(`The daemon did not answer on ${path} within ${timeoutMs} ms.`, { fix: 'Check `oxi status`; restart the daemon with `oxi run` if it hangs.' }));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(req) + '\n'));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      resolve(JSON.parse(buffer.slice(0, nl)) as ControlResponse);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new DaemonError(`No oxi daemon is running for this project (nothing listens on ${path}: ${error.code ?? error.message}).`, {
          fix: 'Start one with `oxi run` (or `oxi demo`), then retry.',
        }),
      );
    });
  });
}
