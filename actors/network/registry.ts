/**
 * The proxies of this engine, one per sandboxed session (task and role). Each session has a directory of its
 * own holding the proxy's socket and its rules; the sandbox binds the directory (not the socket), so an engine
 * that restarts serves a detached worker again at the same path (`resumeNetwork`). Refused requests go to the
 * ledger of the adapter's database as `network.denied`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirPrivate, writePrivate } from '../../src/fs-private.js';
import { openDb, type Db } from '../../src/store/db.js';
import { appendEvent } from '../../src/store/ledger.js';
import type { AllowRule } from './policy.js';
import { startProxy, type Denial, type RunningProxy } from './proxy.js';

export const SOCKET_NAME = 'proxy.sock';
const RULES_NAME = 'rules.json';
/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface NetworkSession {
  /** Where the engine keeps its state (the per-session directory goes under it when the path is short enough). */
  stateDir: string;
  db: string;
  taskId: string | null;
  role: string;
}

export interface NetworkLease {
  /** The directory the sandbox binds; the socket is `SOCKET_NAME` in it. */
  dir: string;
  release(): Promise<void>;
}

interface Served {
  proxy: RunningProxy;
  db: string;
  users: number;
}

const served = new Map<string, Served>();
const dbs = new Map<string, { db: Db; users: number }>();

/** The session's directory: under the state dir, or (a deep state dir) a private one under the temp dir. */
export function sessionDir(session: Pick<NetworkSession, 'stateDir' | 'taskId' | 'role'>): string {
  const name = `${(session.taskId ?? 'engine').replace(/[^A-Za-z0-9_.-]/g, '_')}-${session.role}`;
  const dir = join(session.stateDir, 'net', name);
  if (join(dir, SOCKET_NAME).length <= MAX_SOCKET_PATH) return dir;
  const hash = createHash('sha256').update(session.stateDir).digest('hex').slice(0, 12);
  return join(tmpdir(), `oxi-net-${process.getuid?.() ?? 0}`, `${hash}-${name}`.slice(0, 60));
}

function ledgerOf(path: string): Db {
  let entry = dbs.get(path);
  if (!entry) dbs.set(path, (entry = { db: openDb(path), users: 0 }));
  return entry.db;
}

function record(session: NetworkSession, denial: Denial): void {
  appendEvent(ledgerOf(session.db), { at: Date.now(), actor: 'network', kind: 'network.denied', task: session.taskId, payload: { role: session.role, ...denial } });
}

/** Starts (or joins) the session's proxy with these rules, and writes them down for a later engine. */
export async function serveNetwork(session: NetworkSession, rules: readonly AllowRule[]): Promise<NetworkLease> {
  const dir = sessionDir(session);
  mkdirPrivate(dir);
  writePrivate(join(dir, RULES_NAME), JSON.stringify({ rules, session: { taskId: session.taskId, role: session.role } }));
  const running = served.get(dir);
  // A relaunch of the same session gets the rules of now: the proxy of the old one goes.
  if (running) await stop(dir, running);
  return start(dir, session, rules);
}

/**
 * Serves a session again after an engine restart, with the rules written at its launch. Nothing to do when
 * it is served already or was never served (a session launched with an open network).
 */
export async function resumeNetwork(session: NetworkSession): Promise<NetworkLease | undefined> {
  const dir = sessionDir(session);
  if (served.has(dir)) return lease(dir);
  const file = join(dir, RULES_NAME);
  if (!existsSync(file)) return undefined;
  const { rules } = JSON.parse(readFileSync(file, 'utf8')) as { rules: AllowRule[] };
  return start(dir, session, rules);
}

/** Stops the session's proxy if this engine serves it (a finished worker, an engine that lost track). */
export async function endNetwork(session: Pick<NetworkSession, 'stateDir' | 'taskId' | 'role'>): Promise<void> {
  const dir = sessionDir(session);
  const running = served.get(dir);
  if (running) await stop(dir, running);
}

async function start(dir: string, session: NetworkSession, rules: readonly AllowRule[]): Promise<NetworkLease> {
  const proxy = await startProxy({ socketPath: join(dir, SOCKET_NAME), rules, onDenied: (d) => record(session, d) });
  served.set(dir, { proxy, db: session.db, users: 0 });
  const entry = dbs.get(session.db);
  if (entry) entry.users += 1;
  else dbs.set(session.db, { db: openDb(session.db), users: 1 });
  return lease(dir);
}

function lease(dir: string): NetworkLease {
  const s = served.get(dir)!;
  s.users += 1;
  let released = false;
  return {
    dir,
    async release() {
      if (released) return;
      released = true;
      const now = served.get(dir);
      if (now !== s) return;
      if (--s.users <= 0) await stop(dir, s);
    },
  };
}

async function stop(dir: string, s: Served): Promise<void> {
  served.delete(dir);
  await s.proxy.close();
  const entry = dbs.get(s.db);
  if (entry && --entry.users <= 0) {
    dbs.delete(s.db);
    entry.db.close();
  }
}

/** Proxies this engine serves now (for tests and the engine's shutdown). */
export function servedSessions(): string[] {
  return [...served.keys()];
}

export async function endAllNetworks(): Promise<void> {
  for (const [dir, s] of [...served]) await stop(dir, s);
}
