import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonError } from '../errors.js';
import { mkdirPrivate, writePrivate } from '../fs-private.js';
import { processExists } from '../process.js';

export interface PidInfo {
  pid: number;
  socket: string;
  startedAt: number;
}

export function pidFilePath(stateDir: string): string {
  return join(stateDir, 'oxi.pid');
}

export function readPid(stateDir: string): PidInfo | undefined {
  const file = pidFilePath(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as PidInfo;
    return processExists(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Claims the project for this process; refuses when a live daemon holds it. */
export function claimPidFile(stateDir: string, socket: string): () => void {
  const live = readPid(stateDir);
  if (live && live.pid !== process.pid) {
    throw new DaemonError(`An oxi daemon is already running for this project (pid ${live.pid}).`, {
      fix: `Stop it first (kill -TERM ${live.pid}), or talk to it with \`oxi status\` / \`oxi send\`.`,
    });
  }
  mkdirPrivate(stateDir, { own: true });
  const file = pidFilePath(stateDir);
  writePrivate(file, JSON.stringify({ pid: process.pid, socket, startedAt: Date.now() }) + '\n');
  return () => {
    const current = readPid(stateDir);
    if (!current || current.pid === process.pid) rmSync(file, { force: true });
  };
}
