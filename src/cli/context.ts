import { isAbsolute, resolve } from 'node:path';
import { loadAdapter } from '../config/load.js';
import type { Adapter } from '../config/schema.js';
import { openDb, type Db } from '../store/db.js';
import { dbError, isDbError } from '../store/db-errors.js';

export interface GlobalOptions {
  config?: string;
  db?: string;
  json?: boolean;
}

/** The adapter (from --config or the working directory), with --db overriding its database path. */
export async function resolveAdapter(global: GlobalOptions, cwd = process.cwd()): Promise<Adapter> {
  const adapter = await loadAdapter({ configPath: global.config ? resolve(cwd, global.config) : undefined, cwd });
  if (global.db) adapter.paths.db = isAbsolute(global.db) ? global.db : resolve(cwd, global.db);
  return adapter;
}

export async function withStore<T>(global: GlobalOptions, fn: (adapter: Adapter, db: Db) => T | Promise<T>): Promise<T> {
  const adapter = await resolveAdapter(global);
  const db = openDb(adapter.paths.db);
  try {
    return await fn(adapter, db);
  } catch (error) {
    // A page that turns out damaged mid-command is still a message, not a stack trace.
    throw isDbError(error) ? dbError(adapter.paths.db, error) : error;
  } finally {
    db.close();
  }
}

/** Prints data as JSON with --json, else as the human form. */
export function output(global: GlobalOptions, data: unknown, human: () => string): void {
  process.stdout.write(global.json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

export const color = {
  enabled: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  wrap(code: number, s: string) {
    return this.enabled ? `\u001b[${code}m${s}\u001b[0m` : s;
  },
  green(s: string) {
    return this.wrap(32, s);
  },
  red(s: string) {
    return this.wrap(31, s);
  },
  yellow(s: string) {
    return this.wrap(33, s);
  },
  dim(s: string) {
    return this.wrap(2, s);
  },
};
