import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirPrivate, writePrivate } from '../src/fs-private.js';
import type { DashboardToken } from './auth.js';

/** Where the generated dashboard token lives between runs (mode 600, in the 700 state dir). */
export function tokenFilePath(stateDir: string): string {
  return join(stateDir, 'dashboard.token');
}

/**
 * The generated token, kept in a 600 file so a bookmarked URL survives restarts and the token
 * is printed once (when the file is made), never again in every start's log line.
 */
export function storedToken(stateDir: string): DashboardToken & { file: string; created: boolean } {
  const file = tokenFilePath(stateDir);
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (value.length >= 16) return { value, generated: true, file, created: false };
  } catch {
    // absent (or unreadable): make a new one below
  }
  mkdirPrivate(stateDir);
  const value = randomBytes(24).toString('base64url');
  writePrivate(file, `${value}\n`);
  return { value, generated: true, file, created: true };
}
