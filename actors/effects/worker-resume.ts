/**
 * Talking to a live worker (`oxi say`): a message is queued in the DB, and when the worker's turn ends well the
 * effect resumes the same agent session with it (claude `--resume`, codex `exec resume`, acp `session/load`) as a
 * follow-up session of the same attempt, instead of finishing. Workers are detached processes that outlive the
 * engine, so the queue (not a pipe held by the engine) is what survives a restart: an adopted worker whose turn
 * ended while no engine ran is resumed at adoption.
 */
import type { WorkOutput } from '../../machines/effects.js';
import type { AgentOutcome } from '../../src/ports.js';
import { ConfigError, OxiError } from '../../src/errors.js';
import { writePrivate } from '../../src/fs-private.js';
import { closeListener, pendingMessages, takeOrClose, type AgentMessage } from '../../src/store/messages.js';
import { getTask } from '../../src/store/tasks.js';
import type { EffectDeps } from './deps.js';
import type { EffectInput } from '../../machines/effects.js';
import type { ResumeHooks, WorkerState } from './run-agent.js';

type RunAgentInput = EffectInput<'runAgent'>;

/** Messages still queued for the task (a session that ended without taking them leaves them to the next one). */
export function takeQueued(deps: EffectDeps, taskId: string): AgentMessage[] {
  return pendingMessages(deps.db, taskId);
}

/** The prompt text that carries operator messages to the agent. */
export function operatorMessages(messages: readonly AgentMessage[]): string {
  return messages.map((m) => `Message from the operator (${m.by}):\n${m.body}`).join('\n\n');
}

/** What the budget leaves for a follow-up session (the task's recorded cost does not hold this worker's sessions yet). */
function leftFor(deps: EffectDeps, input: RunAgentInput, prior: number): number {
  return deps.adapter.budget.perTaskUsd - (getTask(deps.db, input.taskId)?.cost_usd ?? 0) - prior;
}

/**
 * The worker's turn ended well: resume its session with the queued messages (the follow-up's outcome is the
 * effect's), or undefined to finish as usual — nothing queued (the listener is closed in the same transaction),
 * no session to resume, or no budget left (the messages then wait for the task's next session).
 */
export async function afterTurn(deps: EffectDeps, input: RunAgentInput, state: WorkerState, outcome: AgentOutcome, signal: AbortSignal, hooks: ResumeHooks): Promise<WorkOutput | undefined> {
  const pending = takeOrClose(deps.db, input.taskId);
  if (pending.length === 0) return undefined;
  // Killed (or the task left working): no new session now; the next adoption finds the turn ended and resumes it then.
  if (signal.aborted) return { outcome: 'failed', error: 'stopped', costUsd: 0, backend: state.backend };
  const prior = (state.priorCostUsd ?? 0) + outcome.usage.costUsd;
  if (!outcome.sessionId || leftFor(deps, input, prior) <= 0) {
    closeListener(deps.db, input.taskId); // the messages wait for the task's next session
    return undefined;
  }
  const next: WorkerState = { ...state, resume: (state.resume ?? 0) + 1, priorCostUsd: prior, delivering: pending.map((m) => m.id), sessionId: outcome.sessionId };
  // Recorded before it starts: an engine killed in between starts (or adopts) the follow-up at the next run.
  writePrivate(hooks.files(deps, input).state, JSON.stringify(next));
  return resumeWorker(deps, input, next, signal, hooks);
}

/** Starts the follow-up session `state.resume` with every queued message, and watches it. */
export async function resumeWorker(deps: EffectDeps, input: RunAgentInput, state: WorkerState, signal: AbortSignal, hooks: ResumeHooks): Promise<WorkOutput> {
  const messages = pendingMessages(deps.db, input.taskId);
  if (messages.length === 0 || !state.sessionId) {
    throw new OxiError(`Task ${input.taskId}: a follow-up session was recorded as starting, but no message waits for it.`, { fix: 'Retry the task (oxi retry); report this as a bug.' });
  }
  const request = {
    taskId: input.taskId,
    attempt: input.attempt,
    fix: input.fix,
    cwd: input.worktree,
    maxBudgetUsd: Math.max(0.01, leftFor(deps, input, state.priorCostUsd ?? 0)),
    prompt: operatorMessages(messages),
    facts: { ...input },
    sessionId: state.sessionId,
    ...(state.model ? { model: state.model } : {}),
  };
  let launch;
  try {
    launch = deps.agents.workerResume!(request, { backend: state.backend, ...(state.model ? { model: state.model } : {}) });
  } catch (error) {
    if (!(error instanceof ConfigError) && !(error instanceof TypeError)) throw error;
    throw new ConfigError(`Task ${input.taskId}: its ${state.backend} worker cannot be resumed with a message (${(error as Error).message}).`, { fix: 'Route the worker to claude, codex or acp to talk to it (oxi say).', cause: error });
  }
  const files = hooks.files(deps, input, state.resume ?? 0);
  // The follow-up's stream opens with the messages, so `oxi tail` and the transcript show what the agent was told.
  const firstLine = messages.map((m) => `${JSON.stringify({ type: 'user', message: { role: 'user', content: `[say · ${m.by}] ${m.body}` }, oxi_say: m.id })}\n`).join('');
  const started = await hooks.start(deps, input, launch, files, { ...state, delivering: messages.map((m) => m.id) }, signal, firstLine);
  return hooks.watch(deps, input, files, started, signal);
}
