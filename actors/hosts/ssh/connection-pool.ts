/**
 * SSH connections to one host, shared by every exec: sshd allows 10 sessions per connection
 * (MaxSessions), so a connection carries at most `channelsPerConnection` channels and more are
 * opened as needed. Keepalive detects partitions; a failed connect backs off before the next try.
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { HostUnreachableError } from '../../../src/errors.js';
import { checkHostKey, readKnownHosts, type KeyCheck } from './known-hosts.js';
import { channelRefused, commandTimedOut, connectFailure, connectionLost, noExitStatus, type ErrorContext } from './ssh-errors.js';

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
  /** Takes no new channel; ended once its running channels are done. */
  retiring: boolean;
  /** Called with the reason when the connection drops under running channels. */
  onDrop: Set<(error: Error) => void>;
}

export interface ChannelRun {
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Bound on the whole channel (open, run, close); without it only keepalive bounds a run. */
  timeoutMs?: number;
  /** What the command is, for messages (never the command line itself: it carries environment values). */
  what?: string;
  /** The adapter setting that raises timeoutMs, named in the error's fix. */
  timeoutSetting?: 'commandTimeoutMs' | 'execTimeoutMs';
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
  async run(command: string, options: RunOptions = {}): Promise<ChannelRun> {
    const conn = await this.acquire();
    try {
      return await this.onChannel(conn, command, options);
    } finally {
      this.release(conn);
    }
  }

  async close(): Promise<void> {
    this.shut = true;
    for (const c of [...this.connections]) c.client.end();
    this.connections.length = 0;
  }

  private onChannel(conn: Connection, command: string, options: RunOptions): Promise<ChannelRun> {
    const what = options.what ?? 'a command';
    return new Promise<ChannelRun>((resolve, reject) => {
      let settled = false;
      let channel: ClientChannel | undefined;
      let timer: NodeJS.Timeout | undefined;
      const drop = (error: Error) => finish(() => reject(error));
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        conn.onDrop.delete(drop);
        fn();
      };
      conn.onDrop.add(drop);
      if (options.timeoutMs !== undefined) {
        // Why: a server that opens a channel and then says nothing would otherwise hold the caller (and the channel) forever.
        timer = setTimeout(() => finish(() => {
          channel?.close();
          conn.retiring = true; // a server that stalls one channel gets no more: the next command opens a fresh connection
          reject(commandTimedOut(this.context(), what, options.timeoutMs!, options.timeoutSetting ?? 'commandTimeoutMs'));
        }), options.timeoutMs);
      }
      const opened = (error: Error | undefined, stream: ClientChannel) => {
        if (settled) {
          stream?.close(); // answered after its bound: nobody waits for it any more
          return;
        }
        if (error) {
          // Why: ssh2 leaves a session channel whose exec was refused open on the server (counted against MaxSessions) and gives us no handle to close it; only ending the connection frees it.
          conn.retiring = true;
          return finish(() => reject(channelRefused(this.context(), what, error)));
        }
        channel = stream;
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let exited = false;
        let exitCode: number | null = null;
        let signal: string | undefined;
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => err.push(d));
        stream.on('exit', (code: number | null, sig?: string) => {
          exited = true;
          exitCode = code;
          if (sig) signal = sig.startsWith('SIG') ? sig : `SIG${sig}`;
        });
        stream.on('close', () => finish(() => {
          // Why: without an exit status the outcome is unknown; inventing one would let a caller take a live worker for a dead one.
          if (!exited) return reject(noExitStatus(this.context(), what, out.reduce((n, b) => n + b.length, 0)));
          resolve({ exitCode, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
        }));
        // Why: agent CLIs wait for stdin EOF; an exec channel's stdin stays open until ended.
        stream.end(options.input);
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
      const free = this.connections.find((c) => !c.closed && !c.retiring && c.channels < this.tuning.channelsPerConnection);
      if (free) {
        free.channels++;
        return free;
      }
      if (this.connections.length < this.tuning.maxConnections) {
        const conn = await this.connectOnce();
        if (!conn.retiring && conn.channels < this.tuning.channelsPerConnection) {
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
    if (conn.retiring && conn.channels === 0 && !conn.closed) {
      conn.closed = true;
      const i = this.connections.indexOf(conn);
      if (i >= 0) this.connections.splice(i, 1);
      conn.client.end();
    }
    this.waiting.shift()?.();
  }

  /**
   * The next connect really dials instead of answering from the cached error of the last failure. The
   * host's probe calls this: it is already paced by the host actor, and after a partition heals it must
   * see the host come back at once, not after the pool's own backoff.
   */
  retryNow(): void {
    this.retryAt = 0;
  }

  /** One connect at a time; callers that arrive meanwhile share it. */
  private connectOnce(): Promise<Connection> {
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Connection> {
    const now = Date.now();
    if (now < this.retryAt && this.lastError) {
      const wait = this.retryAt - now;
      throw new HostUnreachableError(`${this.lastError.message} (next try in ${wait < 1000 ? `${wait} ms` : `${Math.ceil(wait / 1000)} s`})`, {
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
      const conn: Connection = { client, channels: 0, closed: false, retiring: false, onDrop: new Set() };
      let ready = false;
      client.once('ready', () => {
        ready = true;
        this.connections.push(conn);
        resolve(conn);
      });
      client.on('error', (error: Error & { level?: string }) => {
        if (!ready) return reject(connectFailure(this.context(), error, check, presented));
        this.dropped(conn, error);
      });
      client.on('close', () => {
        if (!ready) return reject(connectFailure(this.context(), new Error('connection closed during the handshake'), check, presented));
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
    const error = connectionLost(this.context(), cause);
    for (const drop of [...conn.onDrop]) drop(error);
    conn.client.end();
    this.waiting.shift()?.();
  }

  private context(): ErrorContext {
    const { target, tuning } = this;
    return { ...target, where: this.where(), keepaliveIntervalMs: tuning.keepaliveIntervalMs, keepaliveCountMax: tuning.keepaliveCountMax, readyTimeoutMs: tuning.readyTimeoutMs };
  }

  private where(): string {
    return `${this.target.user}@${this.target.address}:${this.target.port} (host "${this.target.name}")`;
  }
}
