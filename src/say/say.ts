/**
 * `oxi say`, the dashboard's message box and the MCP `say` tool: one delivery function. The message is queued in
 * the DB (with a `say.queued` ledger row) only while the task's worker session is live and can take it; the
 * worker effect delivers it when the agent's turn ends by resuming that session (actors/effects/worker-resume.ts).
 * It works with or without a running daemon: a message queued while no engine runs is delivered when the engine
 * adopts the worker again.
 */
import { SayRefusedError, UsageError } from '../errors.js';
import { readKillState } from '../runtime/killswitch.js';
import type { Db } from '../store/db.js';
import { queueMessage } from '../store/messages.js';
import { getTask } from '../store/tasks.js';

/** Backends whose worker session can be resumed with a message (claude `--resume`, codex `exec resume`, acp `session/load`). */
export const SAY_BACKENDS = ['claude', 'codex', 'acp'] as const;

/** The longest message accepted (it becomes an agent prompt, passed as one argument). */
export const MAX_SAY_CHARS = 20_000;

export interface SayContext {
  db: Db;
  /** The adapter's paths.stateDir (the killswitch file lives there). */
  stateDir: string;
  /** Who says it, for the ledger (`cli:<user>`, `dashboard`, `mcp`). */
  by: string;
  now?: () => number;
}

export interface SayResult {
  task: string;
  message: number;
  /** Queued until the agent's turn ends; `oxi tail` shows it when its session is resumed. */
  status: 'queued';
  pid: number;
  backend: string;
}

/** Queues `message` for the live agent of `taskId`; throws UsageError (bad input) or SayRefusedError (nobody to tell). */
export function sayToTask(ctx: SayContext, taskId: string, message: string): SayResult {
  const body = message.trim();
  if (!body) throw new UsageError('oxi say: expected a non-empty message, got an empty one.', { fix: 'oxi say <taskId> "what the agent should know"' });
  if (body.length > MAX_SAY_CHARS) throw new UsageError(`oxi say: expected at most ${MAX_SAY_CHARS} characters, got ${body.length}.`, { fix: 'Shorten the message, or put the details in a file in the repository and point to it.' });
  const task = getTask(ctx.db, taskId);
  if (!task) throw new UsageError(`No task "${taskId}" in this project.`, { fix: 'Pass a task id that `oxi tasks` lists (ids are case-sensitive, e.g. T0-101).' });
  const kill = readKillState(ctx.db, ctx.stateDir);
  if (kill.killed) {
    throw new SayRefusedError(`Task ${taskId}: the engine is killed (${kill.reason ?? 'no reason given'}), so no agent session may start to take the message.`, { fix: 'Clear the killswitch with `oxi unkill`, then say it again.' });
  }
  const at = (ctx.now ?? Date.now)();
  const result = queueMessage(ctx.db, { task: taskId, body, by: ctx.by, at }, (listener) => {
    if (task.status !== 'working') return `the task is ${task.status}, not working`;
    if (!(SAY_BACKENDS as readonly string[]).includes(listener.backend)) return `its ${listener.backend} worker cannot take messages (only ${SAY_BACKENDS.join(', ')} can)`;
    return undefined;
  });
  if ('refused' in result) {
    throw new SayRefusedError(`Task ${taskId} has no live agent to tell (${result.refused === 'no live agent' ? `status ${task.status}, no worker session running` : result.refused}).`, {
      fix: 'Say it while the task is working (`oxi tasks` shows its status); `oxi tail` shows what its agent does.',
    });
  }
  return { task: taskId, message: result.message.id, status: 'queued', pid: result.listener.pid, backend: result.listener.backend };
}
