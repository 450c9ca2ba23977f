import type { Activity } from '../agents/activity.js';
import type { Db } from './db.js';

/** The route that serves the task's worker (`backend` or `backend/model`), set at each launch. */
export function recordBackend(db: Db, taskId: string, backend: string, model: string | undefined): void {
  db.prepare('UPDATE tasks SET backend=? WHERE id=?').run(model ? `${backend}/${model}` : backend, taskId);
}

/** What the worker is doing now; not a status change, so last_progress_at is left to the progress stamps. */
export function recordActivity(db: Db, taskId: string, activity: Activity, at: number): void {
  db.prepare('UPDATE tasks SET activity=?, activity_at=? WHERE id=?').run(JSON.stringify(activity), at, taskId);
}

export function parseActivity(raw: string | null | undefined): Activity | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Activity;
  } catch {
    return undefined;
  }
}

/** The tasks whose worker runs now, with the route serving it and what it is doing. */
export function workingActivity(db: Db): Array<{ id: string; backend: string | null; activity: string | null; activity_at: number | null }> {
  return db.prepare(`SELECT id, backend, activity, activity_at FROM tasks WHERE status = 'working' ORDER BY tier, seq, id`).all() as Array<{
    id: string;
    backend: string | null;
    activity: string | null;
    activity_at: number | null;
  }>;
}

/** Tasks served per worker route, all time. */
export function tasksPerBackend(db: Db): Record<string, number> {
  const rows = db.prepare(`SELECT backend, COUNT(*) AS n FROM tasks WHERE backend IS NOT NULL GROUP BY backend`).all() as Array<{ backend: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.backend, r.n]));
}
