/**
 * SSH connections to one host, shared by every exec: sshd allows 10 sessions per connection
 * (MaxSessions), so a connection carries at most `channelsPerConnection` channels and more are
 * opened as needed. Keepalive detects partitions; a failed connect backs off before the next try.
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { HostKeyError, HostUnreachableError } from '../../src/errors.js';
import { checkHostKey, fingerprint, hostPattern, keyTypeOf, readKnownHosts, type KeyCheck } from './known-hosts.js';

export interface SshTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  /** Local private key; without it the ssh agent at SSH_AUTH_SOCK is used. */
  identityFile?: string;
  knownHosts: string;
}

export interface PoolTuning {
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  readyTimeoutMs?: number;
  channelsPerConnection?: number;
  maxConnections?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** The ssh agent socket (default: SSH_AUTH_SOCK of the engine). */
  agentSocket?: string;
}

interface Connection {
  client: Client;
  channels: number;
  closed: boolean;
  /** Called with the reason when the connection drops under running channels. */
  onDrop: Set<(error: Error) => void>;
}

export interface ChannelRun {
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export class ConnectionPool {
  private readonly connections: Connection[] = [];
  private readonly waiting: Array<() => void> = [];
  private connecting: Promise<Connection> | undefined;
  private failures = 0;
  private retryAt = 0;
  private lastError: Error | undefined;
  private shut = false;
  private readonly tuning: Required<Omit<PoolTuning, 'agentSocket'>> & { agentSocket?: string };

  constructor(private readonly target: SshTarget, tuning: PoolTuning = {}) {
    this.tuning = {
      keepaliveIntervalMs: tuning.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: tuning.keepaliveCountMax ?? 3,
      readyTimeoutMs: tuning.readyTimeoutMs ?? 15_000,
      channelsPerConnection: tuning.channelsPerConnection ?? 8,
      maxConnections: tuning.maxConnections ?? 4,
      backoffBaseMs: tuning.backoffBaseMs ?? 500,
      backoffMaxMs: tuning.backoffMaxMs ?? 30_000,
      agentSocket: tuning.agentSocket ?? process.env.SSH_AUTH_SOCK,
    };
  }

  /** Open connections and the channels each carries (for status and tests). */
  stats(): { connections: number; channels: number[] } {
    return { connections: this.connections.length, channels: this.connections.map((c) => c.channels) };
  }

  /** Runs one command on a channel; stdin gets `input` (if any) and is closed at once. */
  async run(command: string, input?: string): Promise<ChannelRun> {
    const conn = await this.acquire();
    try {
      return await this.onChannel(conn, command, input);
    } finally {
      this.release(conn);
    }
  }

  async close(): Promise<void> {
    this.shut = true;
    for (const c of [...this.connections]) c.client.end();
    this.connections.length = 0;
  }

  private onChannel(conn: Connection, command: string, input?: string): Promise<ChannelRun> {
    return new Promise<ChannelRun>((resolve, reject) => {
      let settled = false;
      const drop = (error: Error) => finish(() => reject(error));
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        conn.onDrop.delete(drop);
        fn();
      };
      conn.onDrop.add(drop);
      const opened = (error: Error | undefined, stream: ClientChannel) => {
        if (error) {
          return finish(() => reject(new HostUnreachableError(`Expected ${this.where()} to open a session channel; it refused: ${error.message}.`, {
            fix: 'Check MaxSessions in the host\'s sshd_config and the load on the host.',
            cause: error,
          })));
        }
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let exitCode: number | null = null;
        let signal: string | undefined;
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => err.push(d));
        stream.on('exit', (code: number | null, sig?: string) => {
          exitCode = code;
          if (sig) signal = sig.startsWith('SIG') ? sig : `SIG${sig}`;
        });
        stream.on('close', () => finish(() => resolve({ exitCode, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })));
        // Why: agent CLIs wait for stdin EOF; an exec channel's stdin stays open until ended.
        stream.end(input);
      };
      try {
        conn.client.exec(command, opened);
      } catch (error) {
        // The socket died before ssh2 told us ("Not connected"): the same as a drop.
        this.dropped(conn, error as Error);
      }
    });
  }

  private async acquire(): Promise<Connection> {
    for (;;) {
      if (this.shut) throw new HostUnreachableError(`The connection pool of ${this.where()} is closed.`, { fix: 'The engine is stopping; retry after it restarts.' });
      const free = this.connections.find((c) => !c.closed && c.channels < this.tuning.channelsPerConnection);
      if (free) {
        free.channels++;
        return free;
      }
      if (this.connections.length < this.tuning.maxConnections) {
        const conn = await this.connectOnce();
        if (conn.channels < this.tuning.channelsPerConnection) {
          conn.channels++;
          return conn;
        }
        continue;
      }
      await new Promise<void>((wake) => this.waiting.push(wake));
    }
  }

  private release(conn: Connection): void {
    conn.channels--;
    this.waiting.shift()?.();
  }

  /** One connect at a time; callers that arrive meanwhile share it. */
  private connectOnce(): Promise<Connection> {
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Connection> {
    const now = Date.now();
    if (now < this.retryAt && this.lastError) {
      throw new HostUnreachableError(`${this.lastError.message} (next try in ${Math.ceil((this.retryAt - now) / 1000)} s)`, {
        fix: (this.lastError as { fix?: string }).fix,
        cause: this.lastError,
      });
    }
    try {
      const conn = await this.open();
      this.failures = 0;
      this.lastError = undefined;
      return conn;
    } catch (error) {
      this.failures++;
      this.lastError = error as Error;
      this.retryAt = Date.now() + Math.min(this.tuning.backoffMaxMs, this.tuning.backoffBaseMs * 2 ** (this.failures - 1));
      throw error;
    }
  }

  private open(): Promise<Connection> {
    const { target, tuning } = this;
    const entries = readKnownHosts(target.knownHosts);
    let check: KeyCheck | undefined;
    let presented: Buffer | undefined;
    const config: ConnectConfig = {
      host: target.address,
      port: target.port,
      username: target.user,
      keepaliveInterval: tuning.keepaliveIntervalMs,
      keepaliveCountMax: tuning.keepaliveCountMax,
      readyTimeout: tuning.readyTimeoutMs,
      hostVerifier: (key: Buffer) => {
        presented = key;
        check = checkHostKey(entries, target.address, target.port, key);
        return check.status === 'match';
      },
    };
    if (target.identityFile) config.privateKey = readFileSync(target.identityFile);
    else if (tuning.agentSocket) config.agent = tuning.agentSocket;
    else {
      return Promise.reject(new HostUnreachableError(`Expected a key for ${this.where()}: the adapter names no identityFile and no ssh agent is running (SSH_AUTH_SOCK is unset).`, {
        fix: `Set hosts[].identityFile for "${target.name}", or start ssh-agent and add the key (ssh-add).`,
      }));
    }
    return new Promise<Connection>((resolve, reject) => {
      const client = new Client();
      const conn: Connection = { client, channels: 0, closed: false, onDrop: new Set() };
      let ready = false;
      client.once('ready', () => {
        ready = true;
        this.connections.push(conn);
        resolve(conn);
      });
      client.on('error', (error: Error & { level?: string }) => {
        if (!ready) return reject(this.explain(error, check, presented));
        this.dropped(conn, error);
      });
      client.on('close', () => {
        if (!ready) return reject(this.explain(new Error('connection closed during the handshake'), check, presented));
        this.dropped(conn, new Error('the connection closed'));
      });
      client.connect(config);
    });
  }

  private dropped(conn: Connection, cause: Error): void {
    if (conn.closed) return;
    conn.closed = true;
    const i = this.connections.indexOf(conn);
    if (i >= 0) this.connections.splice(i, 1);
    const error = new HostUnreachableError(`Lost the connection to ${this.where()}: ${cause.message}.`, {
      fix: 'The work on that host is left as it is; the engine reconnects and looks again. Check the network and sshd there.',
      cause,
    });
    for (const drop of [...conn.onDrop]) drop(error);
    conn.client.end();
    this.waiting.shift()?.();
  }

  private explain(error: Error & { level?: string }, check: KeyCheck | undefined, presented: Buffer | undefined): Error {
    const { target } = this;
    const name = hostPattern(target.address, target.port);
    if (check && check.status !== 'match' && presented) {
      const fp = fingerprint(presented);
      const type = keyTypeOf(presented);
      if (check.status === 'unknown') {
        return new HostKeyError(`Expected the host key of ${name} (host "${target.name}") in ${target.knownHosts}; it is not there (the host presented ${type} ${fp}).`, {
          fix: `Verify the fingerprint out of band, then add it: ssh-keyscan -p ${target.port} -t ${type.replace(/^ssh-/, '')} ${target.address} >> ${target.knownHosts}`,
        });
      }
      if (check.status === 'revoked') {
        return new HostKeyError(`The host key of ${name} (host "${target.name}") is marked @revoked in ${target.knownHosts} (line ${check.entry.line}); refusing to connect.`, {
          fix: 'Replace the key on the host, then record the new one.',
        });
      }
      return new HostKeyError(`Expected ${name} (host "${target.name}") to present the key recorded in ${target.knownHosts} (line ${check.expected.map((e) => e.line).join(', ')}); it presented a different one: ${type} ${fp}. Someone may be intercepting the connection, or the host was reinstalled.`, {
        fix: `If the host was really re-keyed, remove the old entry (ssh-keygen -R '${name}' -f ${target.knownHosts}) and add the new one after verifying it.`,
      });
    }
    const auth = /authentication/i.test(error.message) || error.level === 'client-authentication';
    return new HostUnreachableError(`Expected to connect to ${this.where()}; ${auth ? 'authentication failed' : 'it failed'}: ${error.message}.`, {
      fix: auth
        ? `Check hosts[].user and that the key (${target.identityFile ?? 'from the ssh agent'}) is in the user's authorized_keys on the host.`
        : `Check that the host is up and sshd listens on port ${target.port} (ssh -p ${target.port} ${target.user}@${target.address} true).`,
      cause: error,
    });
  }

  private where(): string {
    return `${this.target.user}@${this.target.address}:${this.target.port} (host "${this.target.name}")`;
  }
}
