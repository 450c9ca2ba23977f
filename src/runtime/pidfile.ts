/**
 * Daemon identity. "A daemon is running" is decided by something a dead process cannot do: the daemon
 * holds an exclusive SQLite lock on `oxi.lock` for its whole life (the kernel drops it the moment the
 * process exits, zombie or not), and other commands ask its control socket, which only a live daemon
 * answers. The pid file only says which pid that is; a pid file left by a dead daemon (even when the pid
 * now names a zombie or an unrelated process) is reported and replaced, never trusted.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DaemonError } from '../errors.js';
import { mkdirPrivate, touchPrivate, writePrivate } from '../fs-private.js';
import { callDaemon } from './control.js';

export interface PidInfo {
  pid: number;
  socket: string;
  startedAt: number;
}

export function pidFilePath(stateDir: string): string {
  return join(stateDir, 'oxi.pid');
}

export function lockFilePath(stateDir: string): string {
  return join(stateDir, 'oxi.lock');
}

/** What the pid file says, with no judgement of whether that process is a daemon (or alive). */
export function readPidFile(stateDir: string): PidInfo | undefined {
  const file = pidFilePath(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as PidInfo;
    return Number.isInteger(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a live process holds the daemon lock. A read needs a shared lock, which the daemon's
 * exclusive one refuses at once; a dead process (zombie included) holds nothing.
 */
export function daemonHoldsLock(stateDir: string): boolean {
  const path = lockFilePath(stateDir);
  if (!existsSync(path)) return false;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
    db.prepare("SELECT name FROM sqlite_master WHERE name = 'daemon'").get();
    return false;
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
  } finally {
    db?.close();
  }
}

/** The running daemon: the pid file's process, only while a live process holds the daemon lock. */
export function readPid(stateDir: string): PidInfo | undefined {
  return daemonHoldsLock(stateDir) ? readPidFile(stateDir) : undefined;
}

/** The running daemon, confirmed by its control socket answering a ping (a dead, zombie or unrelated pid cannot). */
export async function runningDaemon(stateDir: string, timeoutMs = 2000): Promise<PidInfo | undefined> {
  const res = await callDaemon(stateDir, { op: 'ping' }, timeoutMs).catch(() => undefined);
  if (!res?.ok || typeof res.pid !== 'number') return undefined;
  const file = readPidFile(stateDir);
  return file && file.pid === res.pid ? file : { pid: res.pid, socket: '', startedAt: 0 };
}

export interface PidClaim {
  release: () => void;
  /** A pid file left by a daemon that is gone (replaced by this claim). */
  stale?: PidInfo;
}

/** Takes the exclusive lock; SQLITE_BUSY means a live process holds it. */
function takeLock(stateDir: string): Database.Database | undefined {
  // A short busy wait rides out a reader's momentary shared lock (daemonHoldsLock); a live daemon's lock never clears.
  touchPrivate(lockFilePath(stateDir)); // 600 before SQLite opens it, whatever the umask
  const lock = new Database(lockFilePath(stateDir), { timeout: 300 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is kept until close.
    lock.exec('CREATE TABLE IF NOT EXISTS daemon (pid INTEGER); DELETE FROM daemon;');
    lock.prepare('INSERT INTO daemon (pid) VALUES (?)').run(process.pid);
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY' || (error as { code?: string }).code === 'SQLITE_LOCKED') return undefined;
    throw error;
  }
}

/** Claims the project for this process; refuses when a live daemon holds the lock. */
export function claimPidFile(stateDir: string, socket: string): PidClaim {
  mkdirPrivate(stateDir, { own: true });
  const previous = readPidFile(stateDir);
  const lock = takeLock(stateDir);
  if (!lock) {
    const pid = previous?.pid;
    throw new DaemonError(`An oxi daemon is already running for this project${pid ? ` (pid ${pid})` : ''}: it holds ${lockFilePath(stateDir)}.`, {
      fix: `Stop it first${pid ? ` (kill -TERM ${pid})` : ''}, or talk to it with \`oxi status\` / \`oxi send\`.`,
    });
  }
  const file = pidFilePath(stateDir);
  writePrivate(file, JSON.stringify({ pid: process.pid, socket, startedAt: Date.now() }) + '\n');
  let released = false;
  return {
    ...(previous && previous.pid !== process.pid ? { stale: previous } : {}),
    release: () => {
      if (released) return;
      released = true;
      const current = readPidFile(stateDir);
      if (!current || current.pid === process.pid) rmSync(file, { force: true });
      lock.close();
    },
  };
}
