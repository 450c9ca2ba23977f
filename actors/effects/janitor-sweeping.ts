/**
 * The tasks the janitor is removing leftovers of right now, per database, in this process. Provisioning (a task's
 * workspace, a shadow's) waits until its task is no longer being swept: a task retried during a sweep would
 * otherwise be given a workspace at the very path the sweep is removing. Only the daemon provisions, so this
 * in-process registry closes the window.
 */
import type { Db } from '../../src/store/db.js';

const sweeping = new WeakMap<Db, Map<string, Promise<void>>>();

/** Marks `ids` as being swept; the returned function ends it (call it in a finally). */
export function beginSweep(db: Db, ids: readonly string[]): () => void {
  let map = sweeping.get(db);
  if (!map) sweeping.set(db, (map = new Map()));
  let done!: () => void;
  const over = new Promise<void>((resolve) => (done = resolve));
  const mine = [...new Set(ids)].filter((id) => !map!.has(id));
  for (const id of mine) map.set(id, over);
  return () => {
    for (const id of mine) if (map!.get(id) === over) map!.delete(id);
    done();
  };
}

export function beingSwept(db: Db, id: string): boolean {
  return sweeping.get(db)?.has(id) ?? false;
}

/** Resolves once the task is no longer being swept (at once when it is not); a sweep is bounded by its hosts' command timeouts. */
export async function untilSwept(db: Db, id: string): Promise<void> {
  for (let at = sweeping.get(db)?.get(id); at; at = sweeping.get(db)?.get(id)) await at;
}
