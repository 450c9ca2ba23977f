/**
 * The janitor's record of finished tasks' agent logs (engine.janitor.logsKeepMs): which tasks ended long enough ago
 * for their stream files to go, on which hosts they ran (the task's and its shadow runs'), and when they went.
 */
import type { Db } from './db.js';

export interface TaskWithLogs {
  id: string;
  repo: string;
  status: string;
  host: string | null;
  updated_at: number;
  /** The hosts of the task's shadow runs (a shadow runs on its worker's host, which may have been another one). */
  shadowHosts: string[];
}

/**
 * Tasks merged or abandoned before `before` whose logs were not removed since they ended, oldest first. A task
 * finished again after a removal (a retry) has updated_at past its mark: its new logs are due in turn.
 */
export function finishedWithLogs(db: Db, before: number): TaskWithLogs[] {
  const rows = db
    .prepare(
      `SELECT t.id, t.repo, t.status, t.host, t.updated_at, (SELECT group_concat(DISTINCT s.host) FROM shadow_pair s WHERE s.task = t.id) AS shadow
       FROM tasks t WHERE t.status IN ('merged','abandoned') AND t.updated_at < ? AND (t.logs_removed_at IS NULL OR t.logs_removed_at < t.updated_at)
       ORDER BY t.updated_at, t.id`,
    )
    .all(before) as Array<Omit<TaskWithLogs, 'shadowHosts'> & { shadow: string | null }>;
  return rows.map(({ shadow, ...r }) => ({ ...r, shadowHosts: shadow ? shadow.split(',') : [] }));
}

/** The task's logs are gone (removed, found gone, or refused for good): only while the task is as it was read. */
export function markLogsRemoved(db: Db, id: string, status: string, updatedAt: number, at: number): void {
  db.prepare('UPDATE tasks SET logs_removed_at = ? WHERE id = ? AND status = ? AND updated_at = ?').run(at, id, status, updatedAt);
}

/** When the janitor removed the task's logs (undefined: not removed, or new ones written since by a retry). */
export function logsRemovedAt(db: Db, id: string): number | undefined {
  const row = db.prepare('SELECT logs_removed_at AS at, updated_at AS updated FROM tasks WHERE id = ?').get(id) as { at: number | null; updated: number } | undefined;
  return row?.at != null && row.at >= row.updated ? row.at : undefined;
}
