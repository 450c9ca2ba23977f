/**
 * A tiny SSH server (ssh2's `Server`, in-process) that misbehaves on demand, for the faults a real
 * sshd cannot be made to show: it authenticates the test's client key, then — depending on `fault` —
 * runs commands normally (`sh -c`, as the test runner's user), or refuses the session channel,
 * refuses the exec request, closes the channel without an exit status, opens it and never answers,
 * writes part of the output and cuts the TCP connection, or never sends its banner.
 *
 * Every raw TCP socket passes through a plain `net` server first (then `injectSocket`), so the
 * fixture can hold a connection before the banner or destroy it mid-stream.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';

const { Server, utils } = ssh2;

export type Fault =
  | 'none'
  | 'refuse-channel'
  | 'refuse-exec'
  | 'no-exit-status'
  | 'silent-channel'
  | 'drop-mid-stdout'
  | 'slow-banner';

/** What `no-exit-status` and `drop-mid-stdout` write before misbehaving. */
export const PARTIAL_STDOUT = 'partial';

export interface FaultySshServer {
  port: number;
  user: string;
  identityFile: string;
  /** known_hosts holding this server's key. */
  knownHosts: string;
  /** known_hosts holding another key for the same host:port (a re-keyed host, or a man in the middle). */
  wrongKnownHosts: string;
  fault: Fault;
  /** Session channels the server holds open right now. */
  openSessions(): number;
  /** Raw TCP connections open right now. */
  openSockets(): number;
  close(): Promise<void>;
}

const keyLine = (pub: string) => pub.split(' ').slice(0, 2).join(' ');

export async function startFaultySshServer(initial: Fault = 'none'): Promise<FaultySshServer> {
  const dir = mkdtempSync(join(os.tmpdir(), 'oxi-faulty-ssh-'));
  const hostKey = utils.generateKeyPairSync('ed25519');
  const otherKey = utils.generateKeyPairSync('ed25519');
  const clientKey = utils.generateKeyPairSync('ed25519');
  const clientPublic = utils.parseKey(clientKey.public);
  if (clientPublic instanceof Error) throw clientPublic;
  const identityFile = join(dir, 'client_ed25519');
  writeFileSync(identityFile, clientKey.private, { mode: 0o600 });

  const sockets = new Set<Socket>();
  let sessions = 0;
  const state = { fault: initial };

  const ssh = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('error', () => undefined); // a cut connection is the point of some faults
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || Buffer.compare(ctx.key.data, clientPublic.getPublicSSH()) !== 0) return ctx.reject(['publickey']);
      if (!ctx.signature) return ctx.accept(); // the client asks whether the key would do
      return clientPublic.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept, reject) => {
        if (state.fault === 'refuse-channel') return reject();
        const session = accept();
        sessions++;
        let counted = true;
        const uncount = () => {
          if (counted) sessions--;
          counted = false;
        };
        session.on('close', uncount);
        client.on('close', uncount);
        session.on('exec', (acceptExec, rejectExec, info) => {
          const fault = state.fault;
          if (fault === 'refuse-exec') return rejectExec();
          const stream = acceptExec();
          stream.on('close', uncount);
          stream.resume(); // Why: a channel emits 'close' only once its incoming side is read to the end
          if (fault === 'silent-channel') return;
          if (fault === 'no-exit-status') {
            stream.write(PARTIAL_STDOUT);
            return stream.close();
          }
          if (fault === 'drop-mid-stdout') {
            stream.write(PARTIAL_STDOUT);
            // Let the bytes leave, then cut the TCP connection under the open channel.
            return setTimeout(() => [...sockets].forEach((s) => s.destroy()), 50);
          }
          const child = spawn('sh', ['-c', info.command], { stdio: ['pipe', 'pipe', 'pipe'] });
          stream.pipe(child.stdin);
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          child.on('close', (code, signal) => {
            stream.exit(code ?? (signal ? 128 : 1));
            stream.end();
          });
        });
      });
    });
  });

  const tcp = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // Why: slow-banner holds the connection open and says nothing; the client's handshake timeout must end it.
    if (state.fault === 'slow-banner') return;
    ssh.injectSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (tcp.address() as { port: number }).port;
  const knownHosts = join(dir, 'known_hosts');
  const wrongKnownHosts = join(dir, 'known_hosts.wrong');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${keyLine(hostKey.public)}\n`);
  writeFileSync(wrongKnownHosts, `[127.0.0.1]:${port} ${keyLine(otherKey.public)}\n`);

  return {
    port,
    user: 'oxi',
    identityFile,
    knownHosts,
    wrongKnownHosts,
    get fault() {
      return state.fault;
    },
    set fault(f: Fault) {
      state.fault = f;
    },
    openSessions: () => sessions,
    openSockets: () => sockets.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
