/**
 * What a janitor sweep noted already (a host out of reach, a removal that keeps failing), per database: each is
 * written to the ledger once, not on every tick, and forgotten when it clears so its next occurrence is noted again.
 */
import type { Db } from '../../src/store/db.js';

export interface JanitorNotes {
  /** True the first time `key` is noted for `db` (then write the ledger row), false while it stays noted. */
  once(db: Db, key: string): boolean;
  has(db: Db, key: string): boolean;
  forget(db: Db, key: string): void;
}

export function janitorNotes(): JanitorNotes {
  const noted = new WeakMap<Db, Set<string>>();
  return {
    once(db, key) {
      let seen = noted.get(db);
      if (!seen) noted.set(db, (seen = new Set()));
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
    has: (db, key) => noted.get(db)?.has(key) ?? false,
    forget: (db, key) => void noted.get(db)?.delete(key),
  };
}
