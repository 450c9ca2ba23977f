/**
 * Files and directories oxi creates for itself (the state dir, the database, logs, pid and state
 * files, agent streams, the worktrees root) are the engine user's alone: directories 700, files 600,
 * whatever the umask. Modes are set on the descriptor or right after creation (never by changing the
 * process umask, which is global and would reach the agents). docs/security.md "File modes".
 */
import { chmodSync, closeSync, constants, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/**
 * Creates `dir` and any missing parent as 700. Parents that exist are left alone; with `own: true`
 * the directory itself is made 700 even if it existed (one oxi made before, or made by an older version).
 */
export function mkdirPrivate(dir: string, options: { own?: boolean } = {}): void {
  const target = resolve(dir);
  const first = mkdirSync(target, { recursive: true, mode: DIR_MODE });
  // mkdir's mode is filtered by the umask: set it on every directory this call created.
  if (first !== undefined) {
    let path = resolve(first);
    chmodSync(path, DIR_MODE);
    for (const part of relative(path, target).split(sep).filter(Boolean)) {
      path = `${path}${sep}${part}`;
      chmodSync(path, DIR_MODE);
    }
  } else if (options.own) chmodSync(target, DIR_MODE);
}

/** Opens (creating as 600, parents as 700) and returns a descriptor; the mode is set on it, so an existing file is tightened too. */
export function openPrivate(path: string, flags: 'w' | 'a' | number = 'w'): number {
  mkdirPrivate(dirname(path));
  const fd = openSync(path, flags, FILE_MODE);
  try {
    fchmodSync(fd, FILE_MODE);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

/** Writes the whole file, created 600 (parents 700). */
export function writePrivate(path: string, content: string | Uint8Array): void {
  const fd = openPrivate(path, 'w');
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
  } finally {
    closeSync(fd);
  }
}

/** Creates the file empty if absent (600) without truncating it, and tightens it if present: e.g. a database before SQLite opens it. */
export function touchPrivate(path: string): void {
  closeSync(openPrivate(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND));
}

/** Makes an existing file 600, if it exists. */
export function chmodPrivateIfExists(path: string): void {
  try {
    chmodSync(path, FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
