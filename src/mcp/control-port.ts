/**
 * What `oxi mcp` needs from the engine beyond the database and the daemon's socket: delivering a
 * message to a task's live agent (`say`). Until the engine offers it, `say` answers a clear
 * "not available" error instead of pretending to deliver.
 */
import { OxiError } from '../errors.js';

export class ControlUnavailableError extends OxiError {}

export interface SayResult {
  delivered: boolean;
  [k: string]: unknown;
}

export interface ControlPort {
  /** Delivers `message` to the live agent of `taskId`. */
  say(taskId: string, message: string): Promise<SayResult>;
}

export const unwiredControl: ControlPort = {
  async say(taskId) {
    throw new ControlUnavailableError(`say: this oxi cannot deliver a message to the agent of ${taskId} yet (no live-agent messaging in this build).`, {
      fix: 'Use retry_task, or `oxi send task:<id> <event>` for machine events; `say` works once the engine supports messages to live agents.',
    });
  },
};
