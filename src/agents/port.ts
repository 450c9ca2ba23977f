import type { AgentOutcome } from '../ports.js';

export interface AgentRequest {
  taskId: string;
  attempt: number;
  prompt: string;
  cwd: string;
  /** Structured facts the scripted backend reads instead of the prompt. */
  facts: Record<string, unknown>;
}

export interface WorkerLaunch {
  argv: string[];
  env: Record<string, string>;
  backend: string;
  model?: string;
}

/**
 * The agent port: planner and critic answer in-process or as a waited subprocess; the worker is
 * launched detached (it must survive an engine crash) and read back from its NDJSON log.
 */
export interface AgentPort {
  complete(role: 'planner' | 'critic', request: AgentRequest): Promise<AgentOutcome>;
  workerLaunch(request: AgentRequest & { fix: number }): WorkerLaunch;
  /** Reads a finished worker's stream into an outcome (undefined: no terminal event). */
  parseWorkerLog(text: string): AgentOutcome | undefined;
}
