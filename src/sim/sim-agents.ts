import type { AgentPort, AgentRequest, WorkerLaunch } from '../../src/agents/port.js';
import { parseAgentStream } from '../../src/agents/stream.js';
import type { AgentOutcome } from '../../src/ports.js';
import { weatherError, type Population } from './population.js';

/**
 * The agent port of the simulated week: planner answers in-process (sometimes with garbage),
 * workers are "launched" on the SimHost, their logs read by the real stream parser.
 */
export function simAgents(population: Population, observer: { killed(): boolean; violation(what: string, task: string): void }): AgentPort {
  return {
    async complete(role: 'planner' | 'critic', request: AgentRequest): Promise<AgentOutcome> {
      if (observer.killed()) observer.violation(role, request.taskId);
      const w = population.weather();
      if (w) {
        // The planner's API call fails as the real CLI reports it (errorKind: what earlier versions read).
        const e = weatherError(w);
        const kind = w.kind;
        return { ok: false, kind, errorKind: w.kind === 'rate_limited' ? 'retryable' : 'failed', error: `${e.text} (api_error_status ${e.status})`, ...(kind === 'rate_limited' ? { resetAt: w.until } : {}), text: '', usage: { costUsd: 0 }, backend: 'sim' } as AgentOutcome;
      }
      const text =
        role === 'planner' && population.planIsGarbage()
          ? 'I could not decide on a plan.'
          : JSON.stringify({ files_touched: [`src/${request.taskId}.js`, `test/${request.taskId}.test.js`], tests: [], dependencies: [], risk: 'low' });
      return { ok: true, text, usage: { costUsd: 0.05 }, backend: 'sim' };
    },
    workerLaunch(request: AgentRequest & { fix: number }): WorkerLaunch {
      return { argv: ['oxi-sim-worker', request.taskId, String(request.attempt), String(request.fix)], env: {}, backend: 'sim' };
    },
    parseWorkerLog(text: string): AgentOutcome | undefined {
      const t = parseAgentStream(text, 'claude').terminal;
      if (!t) return undefined;
      return { ok: t.ok, kind: t.kind, error: t.error, resetAt: t.resetAt, retryAfterMs: t.retryAfterMs, text: t.text, usage: { costUsd: t.costUsd, turns: t.turns }, sessionId: t.sessionId, backend: 'sim' };
    },
  };
}
