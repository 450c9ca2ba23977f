/**
 * Daemon identity. "A daemon is running" is decided by something a dead process cannot do: the daemon
 * holds an exclusive SQLite lock on `oxi.lock` for its whole life (the kernel drops it the moment the
 * process exits, zombie or not), and other commands ask its control socket, which only a live daemon
 * answers. The pid file only says which pid that is; a pid file left by a dead daemon (even when the pid
 * now names a zombie or an unrelated process) is reported and replaced, never trusted.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonError } from '../errors.js';
import { mkdirPrivate, touchPrivate, writePrivate } from '../fs-private.js';
import { callDaemon } from './control.js';
import { lockIsHeld, takeExclusiveLock } from '../store/daemon-lock.js';

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
  return lockIsHeld(path);
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

/** Takes the exclusive lock; undefined means a live process holds it. */
function takeLock(stateDir: string): { close(): void } | undefined {
  touchPrivate(lockFilePath(stateDir)); // 600 before SQLite opens it, whatever the umask
  return takeExclusiveLock(lockFilePath(stateDir), process.pid);
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
