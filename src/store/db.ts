import Database from 'better-sqlite3';
import { chmodPrivateIfExists, touchPrivate } from '../fs-private.js';
import { StoreError } from '../errors.js';
import { migrations } from './migrations.js';
import { keepBackup } from './backup.js';
import { dbError } from './db-errors.js';

export type Db = Database.Database;

export interface OpenDbOptions {
  /** FULL by default: better-sqlite3's WAL default (NORMAL) can lose the last acknowledged transitions on power loss. */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  busyTimeoutMs?: number;
  readonly?: boolean;
}

/** Opens (and migrates) the oxi database: WAL, synchronous=FULL, busy timeout ≥ 5 s. */
export function openDb(file: string, options: OpenDbOptions = {}): Db {
  const onDisk = file !== ':memory:' && !options.readonly;
  // SQLite gives the -wal and -shm files the database file's mode: a 600 database makes all three 600.
  if (onDisk) touchPrivate(file);
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: options.readonly ?? false });
    db.pragma(`busy_timeout = ${Math.max(5000, options.busyTimeoutMs ?? 5000)}`);
    // Before migrating, so migrations commit at the durability the caller asked for (FULL by default).
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // Migrations are never undone: the copy before them is what a rollback restores.
      const current = db.pragma('user_version', { simple: true }) as number;
      if (onDisk && current > 0 && current < migrations.length) keepBackup(db, file);
      migrate(db);
    }
    // Files left by an earlier version (or another umask) are tightened too.
    if (onDisk) for (const suffix of ['-wal', '-shm']) chmodPrivateIfExists(`${file}${suffix}`);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (cause) {
    db?.close();
    // Corrupt, read-only, locked, full, newer: a message naming the file and the fix, never a stack.
    throw dbError(file, cause);
  }
}

/** Applies pending migrations in one IMMEDIATE transaction each. */
export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new StoreError(
      `The database schema is version ${current}, newer than this oxi knows (${migrations.length}).`,
      { fix: 'Upgrade oxi to the version that wrote it, or restore the backup oxi took before that upgrade (<db>.backup), or point --db at a database made by this version.' },
    );
  }
  for (let v = current; v < migrations.length; v++) {
    immediate(db, () => {
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
    });
  }
  return migrations.length - current;
}

/** Runs fn inside BEGIN IMMEDIATE (takes the write lock up front: the right mode for read-modify-write). */
export function immediate<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/** A statement prepared once per database: for queries asked on every claim or tick. */
export function cached(db: Db, sql: string): Database.Statement {
  let byText = statements.get(db);
  if (!byText) statements.set(db, (byText = new Map()));
  let s = byText.get(sql);
  if (!s) byText.set(sql, (s = db.prepare(sql)));
  return s;
}

/** A database file's schema version and SQLite's quick integrity check, read without migrating. */
export function inspectDbFile(file: string): { version: number; integrity: string } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return { version: db.pragma('user_version', { simple: true }) as number, integrity: db.pragma('quick_check', { simple: true }) as string };
  } finally {
    db.close();
  }
}
