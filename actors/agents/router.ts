/**
 * The agent router: the adapter maps each role to `{backend, model, fallbacks}`; a run whose failure is
 * classed retryable (rate limit, overload, SIGTERM) moves to the next route. Planner and critic fall back
 * within one call. The worker is detached, so its fallback is decided at the next launch: every retryable
 * worker failure is a ledger event (`agent.retryable`), and the launch takes the route after the ones
 * that failed — crash-safe, since the ledger is the truth.
 */
import type { AgentPort, AgentRequest, WorkerLaunch } from '../../src/agents/port.js';
import type { Adapter, AgentRoute } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import type { AgentOutcome } from '../../src/ports.js';
import type { Db } from '../../src/store/db.js';
import type { AgentSandbox } from '../../src/sandbox/port.js';
import { scriptedBackend } from '../scripted-agent/backend.js';
import { claudeBackend } from './claude.js';
import { codexBackend } from './codex.js';

export type Backend = AgentRoute['backend'];
export type Role = 'planner' | 'worker' | 'critic';

export interface RouterOptions {
  adapter: Adapter;
  env: Record<string, string>;
  db: Db;
  /** Where planner and critic runs are confined (default: this machine's sandbox from agents.sandbox). */
  sandbox?: AgentSandbox;
  /** Replace a backend (tests). */
  backends?: Partial<Record<Backend, AgentPort>>;
}

/** A role's routes in order: the primary, then its fallbacks. */
export function routesOf(adapter: Adapter, role: Role): Array<{ backend: Backend; model?: string }> {
  const r = adapter.agents[role];
  return [{ backend: r.backend, ...(r.model ? { model: r.model } : {}) }, ...r.fallbacks];
}

/** Retryable worker failures recorded for this task so far. */
export function workerRetryables(db: Db, taskId: string): number {
  const row = db.prepare(`SELECT COUNT(*) AS n FROM event WHERE task = ? AND kind = 'agent.retryable' AND json_extract(payload, '$.role') = 'worker'`).get(taskId) as { n: number };
  return row.n;
}

export function agentRouter(options: RouterOptions): AgentPort {
  const { adapter } = options;
  const used = new Set<Backend>((['planner', 'worker', 'critic'] as const).flatMap((role) => routesOf(adapter, role).map((r) => r.backend)));
  const ports = new Map<Backend, AgentPort>();
  for (const backend of used) ports.set(backend, options.backends?.[backend] ?? build(backend, options));
  const port = (backend: string): AgentPort => {
    const p = ports.get(backend as Backend);
    if (!p) throw new ConfigError(`No agent backend "${backend}" is configured: expected one of ${[...ports.keys()].join(', ')}.`, { fix: 'Name it in agents.<role>.backend or its fallbacks.' });
    return p;
  };

  return {
    async complete(role, request): Promise<AgentOutcome> {
      const routes = routesOf(adapter, role);
      let spent = 0;
      const failures: string[] = [];
      for (const [i, route] of routes.entries()) {
        request.signal?.throwIfAborted(); // no fallback run for an answer nobody waits for
        const out = await port(route.backend).complete(role, withModel(request, route.model));
        spent += out.usage.costUsd;
        const last = i === routes.length - 1;
        if (out.ok || out.errorKind !== 'retryable' || last) {
          const result = { ...out, usage: { ...out.usage, costUsd: spent } };
          if (!out.ok && failures.length) result.error = `${out.error ?? 'failed'} (after fallbacks: ${failures.join('; ')})`;
          return result;
        }
        failures.push(`${route.backend}${route.model ? `/${route.model}` : ''}: ${out.error ?? 'retryable failure'}`);
      }
      throw new Error('unreachable: a role always has a route');
    },
    workerLaunch(request): WorkerLaunch {
      const routes = routesOf(adapter, 'worker');
      const route = routes[workerRetryables(options.db, request.taskId) % routes.length];
      const launch = port(route.backend).workerLaunch(withModel(request, route.model));
      return { ...launch, backend: route.backend, ...(route.model ? { model: route.model } : {}) };
    },
    parseWorkerLog(text, launch): AgentOutcome | undefined {
      return port(launch?.backend ?? adapter.agents.worker.backend).parseWorkerLog(text, launch);
    },
  };
}

function withModel<T extends AgentRequest>(request: T, model: string | undefined): T {
  return model ? { ...request, model } : request;
}

function build(backend: Backend, options: RouterOptions): AgentPort {
  const { adapter, env } = options;
  switch (backend) {
    case 'claude':
      return claudeBackend({ adapter, env, sandbox: options.sandbox });
    case 'codex':
      return codexBackend({ adapter, env, sandbox: options.sandbox });
    case 'scripted':
      if (!adapter.agents.scripted.script) {
        throw new ConfigError("agents.scripted.script: expected the path of the scripted agent's script, got nothing.", {
          fix: 'Set agents.scripted.script to a JSON script (see docs/scripted-agent.md), or route every role to claude or codex.',
        });
      }
      return scriptedBackend({ scriptPath: adapter.agents.scripted.script, env, sensitive: adapter.policy.scope.sensitive });
  }
}
