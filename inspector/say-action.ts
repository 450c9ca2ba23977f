/** POST /api/v1/tasks/:id/say {"message": "…"}: the dashboard's message box, the same delivery as `oxi say`. */
import { SayRefusedError, UsageError } from '../src/errors.js';
import { sayToTask } from '../src/say/say.js';
import type { ActionResult, ActionTarget } from './actions.js';

export function sayAction(t: ActionTarget, taskId: string, body: unknown, by: string): ActionResult {
  const message = (body ?? {}) as { message?: unknown };
  if (typeof message.message !== 'string') {
    return { status: 400, body: { error: `say: expected a JSON body {"message": "<text>"}, got ${JSON.stringify(body ?? null).slice(0, 120)}.` } };
  }
  try {
    return { status: 200, body: { ...sayToTask({ db: t.db, stateDir: t.adapter.paths.stateDir, by }, taskId, message.message) } };
  } catch (error) {
    if (error instanceof UsageError) return { status: /^No task/.test(error.message) ? 404 : 400, body: { error: error.message, fix: error.fix } };
    if (error instanceof SayRefusedError) return { status: 409, body: { error: error.message, fix: error.fix } };
    throw error;
  }
}
