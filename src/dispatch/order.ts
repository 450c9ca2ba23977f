import type { Db } from '../store/db.js';
import { taskRank, tasksRankedBefore } from '../store/tasks.js';
import { PRE_DISPATCH_STATUSES } from '../../machines/status.js';

/**
 * The pool's dispatch order, read from the task rows: tier, then roadmap order (`seq`). A task still in
 * `planning` (or in `waiting` on its way to a claim) will ask for a slot soon, so those ranked before a
 * waiter keep the slots it would take.
 */
export function dispatchOrder(db: Db): { rank: (taskId: string) => { tier: number; seq: number } | undefined; pendingAhead: (taskId: string) => string[] } {
  return {
    rank: (taskId) => taskRank(db, taskId),
    pendingAhead: (taskId) => {
      const r = taskRank(db, taskId);
      return r ? tasksRankedBefore(db, PRE_DISPATCH_STATUSES, r, taskId) : [];
    },
  };
}
