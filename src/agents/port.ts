import type { AgentOutcome, HostTransport } from '../ports.js';

export interface AgentRequest {
  taskId: string;
  attempt: number;
  prompt: string;
  cwd: string;
  /** Structured facts the scripted backend reads instead of the prompt. */
  facts: Record<string, unknown>;
  /** The model of the route being tried (the router sets it); backends fall back to their default. */
  model?: string;
  /** Spend cap of this run in USD (what is left of the task's budget); real backends pass it on. */
  maxBudgetUsd?: number;
  /**
   * The effect's signal (planner, critic): once aborted (a kill, or the task left the state) no run
   * starts, and a running one is terminated, since its answer would be discarded.
   */
  signal?: AbortSignal;
}

export interface WorkerLaunch {
  argv: string[];
  env: Record<string, string>;
  backend: string;
  model?: string;
  /** Paths the agent must read besides its program and workspace (the sandbox binds them read-only). */
  readOnly?: string[];
}

/**
 * The agent port: planner and critic answer in-process or as a waited subprocess; the worker is
 * launched detached (it must survive an engine crash) and read back from its NDJSON log.
 */
export interface AgentPort {
  complete(role: 'planner' | 'critic', request: AgentRequest): Promise<AgentOutcome>;
  workerLaunch(request: AgentRequest & { fix: number }): WorkerLaunch;
  /**
   * A follow-up session of a worker whose turn ended, resuming `sessionId` with `request.prompt` (an operator's
   * message, `oxi say`). `launch`: the finished session's route. Absent: the backend cannot resume a session.
   */
  workerResume?(request: AgentRequest & { fix: number; sessionId: string }, launch: { backend: string; model?: string }): WorkerLaunch;
  /** The worker's launch on the shadow route (agents.shadow): the same request, another backend and model. Absent: no shadow route. */
  shadowLaunch?(request: AgentRequest & { fix: number }): WorkerLaunch;
  /** Reads a finished worker's stream into an outcome (undefined: no terminal event). `launch`: what workerLaunch chose. */
  parseWorkerLog(text: string, launch?: { backend: string; model?: string }): AgentOutcome | undefined;
  /**
   * A finished worker's outcome completed from what the backend writes after its stream ends (codex: reasoning tokens
   * in its session file). `host`: where the worker ran (absent: this machine). Absent: the stream is the whole account.
   */
  settleUsage?(outcome: AgentOutcome, launch: { backend: string; model?: string }, host?: HostTransport): Promise<AgentOutcome>;
}
