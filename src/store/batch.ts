import type { Db } from './db.js';

/**
 * Multi-row INSERTs: a kill reaching 1,000 tasks writes thousands of rows in one transaction, and
 * one statement per 64 rows costs a fraction of 64 statements. Statements are prepared once per size.
 */
export function batchInsert(db: Db, head: string, columns: number, tail = '') {
  const CHUNK = 64;
  const cache = new Map<number, { run(...params: unknown[]): unknown }>();
  const statement = (rows: number) => {
    let s = cache.get(rows);
    if (!s) {
      const one = `(${Array(columns).fill('?').join(', ')})`;
      s = db.prepare(`${head} VALUES ${Array(rows).fill(one).join(', ')} ${tail}`) as unknown as { run(...params: unknown[]): unknown };
      cache.set(rows, s);
    }
    return s;
  };
  return (rows: unknown[][]): void => {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      statement(chunk.length).run(...chunk.flat());
    }
  };
}
