import type { Adapter } from '../src/config/schema.js';
import { callDaemon } from '../src/runtime/control.js';
import type { EngineHandle } from '../src/runtime/engine.js';
import { clearKill, setKill } from '../src/runtime/killswitch.js';
import { readPid } from '../src/runtime/pidfile.js';
import type { Db } from '../src/store/db.js';
import { readKillswitch } from '../src/store/engine-state.js';
import { getTask, requeue } from '../src/store/tasks.js';
import { RETRY_TASK_STATUSES } from '../machines/status.js';

export interface ActionTarget {
  db: Db;
  adapter: Adapter;
  /** The engine of this process (`oxi run` / `oxi demo`); absent for a standalone `oxi dashboard`. */
  engine?: EngineHandle;
}

export interface ActionResult {
  status: number;
  body: Record<string, unknown>;
}

/** Live task states in which `task.retry` means something (the task machine handles it there). */
const RETRYABLE_LIVE = RETRY_TASK_STATUSES;

/** Delivers an event to the engine: in this process, else through the daemon's socket. */
async function deliver(t: ActionTarget, actor: string, event: { type: string; [k: string]: unknown }): Promise<'engine' | 'daemon' | 'none'> {
  if (t.engine) return t.engine.send(actor, event) ? 'engine' : 'none';
  if (!readPid(t.adapter.paths.stateDir)) return 'none';
  const res = await callDaemon(t.adapter.paths.stateDir, { op: 'send', actor, event }).catch(() => ({ ok: false as const, error: 'unreachable' }));
  return res.ok ? 'daemon' : 'none';
}

/** What `oxi kill` does: the killswitch row + file (holds with no daemon), then the engine at once. */
export async function killAction(t: ActionTarget, body: unknown, by: string): Promise<ActionResult> {
  const { reason, hard } = (body ?? {}) as { reason?: unknown; hard?: unknown };
  if (typeof reason !== 'string' || !reason.trim() || reason.length > 500) {
    return { status: 400, body: { error: `kill: expected a JSON body {"reason": "<why, 1-500 characters>"}, got ${JSON.stringify(body ?? null).slice(0, 120)}.` } };
  }
  if (hard !== undefined && typeof hard !== 'boolean') return { status: 400, body: { error: `kill: "hard" must be true or false, got ${JSON.stringify(hard)}.` } };
  const at = Date.now();
  setKill(t.db, t.adapter.paths.stateDir, { reason: reason.trim(), by, hard: hard === true, at });
  const delivered = await deliver(t, 'engineState', { type: 'engine.kill', reason: reason.trim(), by, hard: hard === true });
  return { status: 200, body: { killed: true, reason: reason.trim(), hard: hard === true, delivered } };
}

/** What `oxi unkill` does. */
export async function unkillAction(t: ActionTarget, by: string): Promise<ActionResult> {
  const was = readKillswitch(t.db);
  clearKill(t.db, t.adapter.paths.stateDir, by);
  const delivered = await deliver(t, 'engineState', { type: 'engine.unkill', by });
  return { status: 200, body: { killed: false, was: was.killed, delivered } };
}

/**
 * Retry: `task.retry` to a live task parked in backoff / deferred / awaiting_human, or a
 * requeue of an abandoned one (a fresh attempt count; the seeder picks it up).
 */
export async function retryAction(t: ActionTarget, taskId: string, by: string): Promise<ActionResult> {
  const row = getTask(t.db, taskId);
  if (!row) return { status: 404, body: { error: `No task "${taskId}" in this project.` } };
  const live = t.engine ? t.engine.liveTasks().find((x) => x.id === taskId)?.status : row.status;
  if (live && RETRYABLE_LIVE.includes(live)) {
    const delivered = await deliver(t, `task:${taskId}`, { type: 'task.retry', by });
    if (delivered !== 'none') return { status: 200, body: { retried: taskId, via: 'actor', from: live, delivered } };
    return { status: 409, body: { error: `Task ${taskId} is ${live} but no running engine took the retry.`, fix: 'Start the daemon with `oxi run`.' } };
  }
  if (row.status === 'abandoned') {
    requeue(t.db, taskId, Date.now(), by);
    t.engine?.send('seeder', { type: 'seeder.poke' });
    return { status: 200, body: { retried: taskId, via: 'requeue', from: 'abandoned' } };
  }
  return {
    status: 409,
    body: { error: `Task ${taskId} is ${live ?? row.status}: retry applies to an abandoned task or a live one in ${RETRYABLE_LIVE.join(', ')}.` },
  };
}
