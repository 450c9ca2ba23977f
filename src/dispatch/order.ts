import type { Db } from '../store/db.js';

/**
 * The pool's dispatch order, read from the task rows: tier, then roadmap order (`seq`). A task still in
 * `planning` (or in `waiting` on its way to a claim) will ask for a slot soon, so those ranked before a
 * waiter keep the slots it would take.
 */
export function dispatchOrder(db: Db): { rank: (taskId: string) => { tier: number; seq: number } | undefined; pendingAhead: (taskId: string) => string[] } {
  const rankOf = db.prepare<[string], { tier: number; seq: number }>('SELECT tier, seq FROM tasks WHERE id = ?');
  const ahead = db.prepare<[number, number, number, string], { id: string }>(
    "SELECT id FROM tasks WHERE status IN ('planning', 'waiting') AND (tier < ? OR (tier = ? AND seq < ?)) AND id <> ?",
  );
  return {
    rank: (taskId) => rankOf.get(taskId),
    pendingAhead: (taskId) => {
      const r = rankOf.get(taskId);
      return r ? ahead.all(r.tier, r.tier, r.seq, taskId).map((t) => t.id) : [];
    },
  };
}
