import type { Adapter } from '../config/schema.js';
import type { CommittedChange } from '../store/persister.js';
import type { Db } from '../store/db.js';
import { listEvents } from '../store/ledger.js';
import { getTask } from '../store/tasks.js';
import { writeEpisode } from './file-memory.js';

/**
 * A commit listener that writes an episodic note when a task reaches merged or abandoned:
 * what was asked, what happened, what it cost, what the critic said. Runs after the transition
 * is committed, so a crash can only lose a note, never a transition. No memory: a no-op.
 */
export function episodeRecorder(adapter: Adapter, db: Db, onError: (error: unknown) => void = () => undefined) {
  return (changes: CommittedChange[]): void => {
    if (adapter.memory.kind !== 'file') return;
    for (const c of changes) {
      if (c.machine !== 'task' || (c.status !== 'merged' && c.status !== 'abandoned')) continue;
      const id = c.actor.slice('task:'.length);
      const task = getTask(db, id);
      if (!task) continue;
      try {
        const criticReasons = listEvents(db, { task: id, kindPrefix: 'critic.' }).flatMap((e) => {
          const payload = JSON.parse(e.payload) as { reasons?: unknown };
          return Array.isArray(payload.reasons) ? payload.reasons.map((r) => `${e.kind.slice('critic.'.length)}: ${String(r)}`) : [];
        });
        writeEpisode(adapter.memory, {
          taskId: id,
          title: task.title,
          description: task.description,
          outcome: c.status,
          reason: task.reason,
          costUsd: task.cost_usd,
          attempts: task.attempt + 1,
          backend: task.backend ?? null,
          criticReasons: criticReasons.slice(-10),
          at: c.at,
        });
      } catch (error) {
        onError(error);
      }
    }
  };
}
