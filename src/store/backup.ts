/** The copy of the database oxi keeps: taken at each engine start and before migrations. */
import { existsSync, renameSync, rmSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { chmodPrivateIfExists } from '../fs-private.js';

export function backupPath(file: string): string {
  return `${file}.backup`;
}

/**
 * A consistent copy (VACUUM INTO reads one snapshot) written beside the file and renamed into
 * place, so a crash half way never leaves a broken backup. Returns the path, or undefined for
 * an in-memory database.
 */
export function keepBackup(db: Database.Database, file: string): string | undefined {
  if (file === ':memory:') return undefined;
  const target = backupPath(file);
  const tmp = `${target}.tmp`;
  if (existsSync(tmp)) rmSync(tmp, { force: true });
  db.prepare('VACUUM INTO ?').run(tmp);
  chmodPrivateIfExists(tmp);
  renameSync(tmp, target);
  return target;
}
