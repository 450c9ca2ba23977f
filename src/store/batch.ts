import type { Db } from './db.js';

const CHUNK = 64;

type Runnable = { run(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] };

/** Runs `rows` through one statement per 64 rows; statements are prepared once per chunk size. */
function chunked(db: Db, columns: number, sql: (values: string) => string, returning = false) {
  const cache = new Map<number, Runnable>();
  const one = `(${Array(columns).fill('?').join(', ')})`;
  const statement = (rows: number) => {
    let s = cache.get(rows);
    if (!s) {
      s = db.prepare(sql(Array(rows).fill(one).join(', '))) as unknown as Runnable;
      cache.set(rows, s);
    }
    return s;
  };
  return (rows: unknown[][]): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const s = statement(chunk.length);
      if (returning) out.push(...s.all(...chunk.flat()));
      else s.run(...chunk.flat());
    }
    return out;
  };
}

/**
 * Multi-row INSERTs: a kill reaching 1,000 tasks writes thousands of rows in one transaction, and
 * one statement per 64 rows costs a fraction of 64 statements.
 */
export function batchInsert(db: Db, head: string, columns: number, tail = '') {
  return chunked(db, columns, (values) => `${head} VALUES ${values} ${tail}`);
}

/**
 * Multi-row UPDATEs by key (`UPDATE … FROM (VALUES …)`): each row is `[key, ...values]`, and `set`
 * reads the values as `v.column2`, `v.column3`, … (SQLite names VALUES columns column1…columnN).
 */
export function batchUpdate(db: Db, table: string, key: string, columns: number, set: string) {
  return chunked(db, columns, (values) => `UPDATE ${table} SET ${set} FROM (VALUES ${values}) AS v WHERE ${table}.${key} = v.column1`);
}

/** batchUpdate that returns the keys of the rows it changed (a key with no row is simply absent). */
export function batchUpdateReturning(db: Db, table: string, key: string, columns: number, set: string): (rows: unknown[][]) => Array<Record<string, unknown>> {
  const run = chunked(db, columns, (values) => `UPDATE ${table} SET ${set} FROM (VALUES ${values}) AS v WHERE ${table}.${key} = v.column1 RETURNING ${table}.${key}`, true);
  return (rows) => run(rows) as Array<Record<string, unknown>>;
}
