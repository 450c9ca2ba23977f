import { randomUUID } from 'node:crypto';
import type { AgentPort, AgentRequest, WorkerLaunch } from '../../../src/agents/port.js';
import { parseAgentStream } from '../../../src/agents/stream.js';
import type { AgentOutcome } from '../../../src/ports.js';
import { scriptedWorkerArgv, workerProgramFiles } from './paths.js';
import { scriptedCritique, scriptedPlan } from './roles.js';
import { loadScript, type Script } from './script.js';

export interface ScriptedBackendOptions {
  /** Path of the script JSON (adapter.agents.scripted.script). */
  scriptPath: string;
  /** The whitelisted environment of worker subprocesses. */
  env: Record<string, string>;
  /** Prefixes that force a critic rejection / human review. */
  sensitive: readonly string[];
}

/**
 * The embedded stand-in for a coding agent, behind the same port as claude and codex:
 * planner and critic answer in-process from the script; the worker is a real subprocess
 * that writes the scripted files, commits, and speaks claude's stream-json.
 */
export function scriptedBackend(options: ScriptedBackendOptions): AgentPort {
  let cached: Script | undefined;
  const script = () => (cached ??= loadScript(options.scriptPath));
  const outcome = (text: string): AgentOutcome => ({ ok: true, text, usage: { costUsd: 0.01, turns: 1 }, sessionId: randomUUID(), backend: 'scripted', model: 'scripted' });

  return {
    async complete(role: 'planner' | 'critic', request: AgentRequest): Promise<AgentOutcome> {
      request.signal?.throwIfAborted();
      const f = request.facts;
      if (role === 'planner') return outcome(scriptedPlan({ taskId: request.taskId, title: String(f.title ?? ''), description: String(f.description ?? ''), script: script() }));
      return outcome(
        scriptedCritique({
          plan: (f.plan as { files_touched?: string[] }) ?? {},
          diff: String(f.diff ?? ''),
          changedFiles: (f.changedFiles as string[]) ?? [],
          sensitive: options.sensitive,
        }),
      );
    },
    workerLaunch(request: AgentRequest & { fix: number }): WorkerLaunch {
      script(); // fail here, with the script's own message, rather than inside a detached process
      return {
        argv: scriptedWorkerArgv({ task: request.taskId, script: options.scriptPath, cwd: request.cwd, attempt: request.attempt + 1, fix: request.fix, prompt: request.prompt }),
        env: options.env,
        backend: 'scripted',
        model: 'scripted',
        readOnly: [...workerProgramFiles(), options.scriptPath],
      };
    },
    parseWorkerLog(text: string): AgentOutcome | undefined {
      const t = parseAgentStream(text, 'scripted').terminal;
      if (!t) return undefined;
      return { ok: t.ok, kind: t.kind, error: t.error, resetAt: t.resetAt, retryAfterMs: t.retryAfterMs, text: t.text, usage: { costUsd: t.costUsd, turns: t.turns }, sessionId: t.sessionId, backend: 'scripted', model: 'scripted' };
    },
  };
}
