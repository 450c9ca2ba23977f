/**
 * `oxi doctor --repair`: copies every row that can still be read from a damaged database into a
 * fresh one, then swaps it in; the damaged file is kept beside it (renamed), never deleted.
 */
import { existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { openDb } from './db.js';
import { migrations } from './migrations.js';

export interface RepairReport {
  file: string;
  /** Where the damaged file (and its -wal/-shm) now is. */
  keptAs: string;
  tables: Array<{ table: string; copied: number; lost: number | null; error?: string }>;
}

/** Rows of `table` that read, in rowid order; a damaged stretch is skipped past one row at a time. */
function readable(old: Database.Database, table: string): { rows: Record<string, unknown>[]; lost: number | null; error?: string } {
  try {
    return { rows: old.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[], lost: 0 };
  } catch (first) {
    const rows: Record<string, unknown>[] = [];
    let lost = 0;
    let last = -Infinity;
    let misses = 0;
    const next = old.prepare(`SELECT rowid AS _rowid_, * FROM "${table}" WHERE rowid > ? ORDER BY rowid LIMIT 1`);
    for (let guard = 0; guard < 1_000_000; guard++) {
      try {
        const row = next.get(last === -Infinity ? Number.MIN_SAFE_INTEGER : last) as Record<string, unknown> | undefined;
        if (!row) break;
        last = Number(row._rowid_);
        misses = 0;
        delete row._rowid_;
        rows.push(row);
      } catch {
        // This row's page is unreadable: skip one rowid and go on.
        lost++;
        // A lost root page (or a long damaged run) ends the walk: what was read is kept.
        if (last === -Infinity || ++misses > 1000) return { rows, lost: null, error: (first as Error).message };
        last++;
      }
    }
    return { rows, lost, error: (first as Error).message };
  }
}

export function repairDb(file: string, now = Date.now()): RepairReport {
  if (!existsSync(file)) throw new StoreError(`oxi doctor --repair: expected a database at ${file}, found none.`, { fix: 'Pass the right path with --db; a missing database is created on the next start.' });
  let old: Database.Database;
  try {
    old = new Database(file, { readonly: true, fileMustExist: true });
    old.pragma('user_version', { simple: true });
  } catch (error) {
    throw new StoreError(`oxi doctor --repair: ${file} cannot be read at all (${(error as Error).message}); there is nothing to copy.`, {
      fix: `Restore the backup oxi keeps: cp ${file}.backup ${file} && rm -f ${file}-wal ${file}-shm.`,
      cause: error,
    });
  }
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  const fresh = `${file}.repaired-${stamp}`;
  const keptAs = `${file}.damaged-${stamp}`;
  const tables: RepairReport['tables'] = [];
  try {
    const version = old.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length) throw new StoreError(`oxi doctor --repair: ${file} has schema ${version}, newer than this oxi knows (${migrations.length}).`, { fix: 'Repair it with the oxi version that wrote it.' });
    const db = openDb(fresh);
    try {
      const names = (db.prepare(`SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'`).all() as Array<{ name: string }>).map((r) => r.name);
      db.pragma('foreign_keys = OFF');
      for (const table of names) {
        const cols = new Set((db.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name));
        const { rows, lost, error } = readable(old, table);
        let copied = 0;
        db.transaction(() => {
          for (const row of rows) {
            const keys = Object.keys(row).filter((k) => cols.has(k));
            if (!keys.length) continue;
            db.prepare(`INSERT OR REPLACE INTO "${table}" (${keys.map((k) => `"${k}"`).join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`).run(...keys.map((k) => row[k]));
            copied++;
          }
        })();
        tables.push({ table, copied, lost, ...(error ? { error } : {}) });
      }
    } finally {
      db.close();
    }
  } finally {
    old.close();
  }
  // The damaged file and its journal move aside together; the copy takes the name.
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(`${file}${suffix}`)) renameSync(`${file}${suffix}`, `${keptAs}${suffix}`);
  for (const suffix of ['-wal', '-shm']) if (existsSync(`${fresh}${suffix}`)) renameSync(`${fresh}${suffix}`, `${file}${suffix}`);
  renameSync(fresh, file);
  return { file, keptAs, tables };
}
