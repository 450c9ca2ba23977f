/**
 * What `oxi mcp` needs from the engine beyond the database and the daemon's socket: delivering a
 * message to a task's live agent (`say`), through the same code as `oxi say` and the dashboard's box.
 */
import type { Db } from '../store/db.js';
import { sayToTask, type SayResult } from '../say/say.js';

export interface ControlPort {
  /** Queues `message` for the live agent of `taskId` (delivered when its turn ends); throws when no live agent can take it. */
  say(taskId: string, message: string): Promise<SayResult>;
}

/** `say` as `oxi say` does it: recorded in the ledger, refused with the reason when there is no live agent or the engine is killed. */
export function sayControl(db: Db, stateDir: string): ControlPort {
  return {
    async say(taskId, message) {
      return sayToTask({ db, stateDir, by: 'mcp' }, taskId, message);
    },
  };
}
