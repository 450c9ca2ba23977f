/**
 * The agent router: the adapter maps each role to `{backend, model, fallbacks}`; a run whose failure is
 * classed retryable (rate limit, overload, SIGTERM) moves to the next route. Planner and critic fall back
 * within one call. The worker is detached, so its fallback is decided at the next launch: every retryable
 * worker failure is a ledger event (`agent.retryable`), and the launch takes the route after the ones
 * that failed — crash-safe, since the ledger is the truth.
 */
import type { AgentPort, AgentRequest, WorkerLaunch } from '../../src/agents/port.js';
import type { Adapter, AgentRoute } from '../../src/config/schema.js';
import { AgentGateClosedError, ConfigError } from '../../src/errors.js';
import type { AgentGatesPort } from '../../src/gates/agent-gates.js';
import { OUTCOME_POLICY } from '../../machines/outcome.js';
import type { AgentOutcome } from '../../src/ports.js';
import type { Db } from '../../src/store/db.js';
import type { AgentSandbox } from '../../src/sandbox/port.js';
import { scriptedBackend } from './scripted/backend.js';
import { claudeBackend } from './claude.js';
import { codexBackend } from './codex.js';
import { acpBackend } from './acp/backend.js';
import { countWorkerOutages } from '../../src/store/ledger-queries.js';
import { adapterForRepo, adapterForTask, repoNames } from '../../src/config/repos.js';

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
  /** Per-backend gates: a closed backend starts no session (its routes are skipped) until its probe. */
  gates?: AgentGatesPort;
  /** The engine's clock (a session's start, for the gates). */
  now?: () => number;
}

/** A role's routes in order: the primary, then its fallbacks. */
export function routesOf(adapter: Adapter, role: Role): Array<{ backend: Backend; model?: string }> {
  const r = adapter.agents[role];
  return [{ backend: r.backend, ...(r.model ? { model: r.model } : {}) }, ...r.fallbacks];
}

/** Worker outages that move to the next route, recorded for this task so far (`agent.retryable`: rows of earlier versions). */
export function workerOutages(db: Db, taskId: string): number {
  return countWorkerOutages(db, taskId);
}

/** Every route's backend is gated: the error a step waits on, until the soonest probe. */
function allGated(role: Role, routes: Array<{ backend: Backend }>, gates: AgentGatesPort): AgentGateClosedError {
  const closed = routes.map((r) => ({ backend: r.backend, ...gates.closedFor(r.backend)! }));
  const soonest = closed.reduce((a, b) => (b.nextProbeAt < a.nextProbeAt ? b : a));
  return new AgentGateClosedError(
    `No ${role} session started: every route's backend is gated (${closed.map((c) => `${c.backend}: ${c.reason}`).join('; ')}); next probe at ${new Date(soonest.nextProbeAt).toISOString()}.`,
    soonest.outage,
    soonest.nextProbeAt,
    { fix: 'Wait for the reset time, or fix the credentials (oxi doctor --live); the gate reopens by itself at its next probe.' },
  );
}

export function agentRouter(options: RouterOptions): AgentPort {
  const { adapter } = options;
  // Every repository's routes (repos[].routing) name backends too.
  const views = repoNames(adapter).map((name) => adapterForRepo(adapter, name));
  const used = new Set<Backend>(views.flatMap((view) => (['planner', 'worker', 'critic'] as const).flatMap((role) => routesOf(view, role).map((r) => r.backend))));
  const ports = new Map<Backend, AgentPort>();
  for (const backend of used) ports.set(backend, options.backends?.[backend] ?? build(backend, options));
  const port = (backend: string): AgentPort => {
    const p = ports.get(backend as Backend);
    if (!p) throw new ConfigError(`No agent backend "${backend}" is configured: expected one of ${[...ports.keys()].join(', ')}.`, { fix: 'Name it in agents.<role>.backend or its fallbacks.' });
    return p;
  };

  return {
    async complete(role, request): Promise<AgentOutcome> {
      const all = routesOf(adapterForTask(adapter, request.taskId), role);
      const gates = options.gates;
      let spent = 0;
      const failures: string[] = [];
      let last: AgentOutcome | undefined;
      for (const route of all) {
        // Admitted just before it runs: a closed gate's probe is spent only on a session that really starts.
        if (gates && !gates.admit(route.backend)) continue;
        request.signal?.throwIfAborted(); // no fallback run for an answer nobody waits for
        const startedAt = options.now?.() ?? Date.now();
        const out = await port(route.backend).complete(role, withModel(request, route.model));
        gates?.record(route.backend, out.ok ? 'ok' : out.kind ?? 'failed', out, out.error, startedAt);
        spent += out.usage.costUsd;
        last = out;
        if (out.ok || !OUTCOME_POLICY[out.kind ?? 'failed'].fallback) break;
        failures.push(`${route.backend}${route.model ? `/${route.model}` : ''}: ${out.error ?? 'retryable failure'}`);
      }
      if (!last) {
        const closed = allGated(role, all, gates!);
        return { ok: false, kind: closed.outage, resetAt: closed.resetAt, error: closed.message, text: '', usage: { costUsd: 0 }, backend: all[0].backend };
      }
      const result = { ...last, usage: { ...last.usage, costUsd: spent } };
      // The last route's failure says what the fallbacks before it met.
      if (!last.ok && failures.length > 1) result.error = `${last.error ?? 'failed'} (after fallbacks: ${failures.slice(0, -1).join('; ')})`;
      else if (!last.ok && failures.length === 1 && OUTCOME_POLICY[last.kind ?? 'failed'].fallback === false) result.error = `${last.error ?? 'failed'} (after fallbacks: ${failures.join('; ')})`;
      return result;
    },
    workerLaunch(request): WorkerLaunch {
      const routes = routesOf(adapterForTask(adapter, request.taskId), 'worker');
      const first = workerOutages(options.db, request.taskId);
      // From the route after the ones that failed, the first whose backend's gate admits a session.
      const rotated = routes.map((_, i) => routes[(first + i) % routes.length]);
      const route = options.gates ? rotated.find((r) => options.gates!.admit(r.backend)) : rotated[0];
      if (!route) throw allGated('worker', routes, options.gates!);
      const launch = port(route.backend).workerLaunch(withModel(request, route.model));
      return { ...launch, backend: route.backend, ...(route.model ? { model: route.model } : {}) };
    },
    workerResume(request, launch): WorkerLaunch {
      const p = port(launch.backend);
      if (!p.workerResume) throw new ConfigError(`The ${launch.backend} backend cannot resume a session: a message to its worker waits for nothing.`, { fix: 'Route the worker to claude, codex or acp to talk to it (oxi say).' });
      return { ...p.workerResume(request, launch), backend: launch.backend };
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
    case 'acp':
      return acpBackend({ adapter, env, sandbox: options.sandbox });
    case 'scripted':
      if (!adapter.agents.scripted.script) {
        throw new ConfigError("agents.scripted.script: expected the path of the scripted agent's script, got nothing.", {
          fix: 'Set agents.scripted.script to a JSON script (see docs/scripted-agent.md), or route every role to claude or codex.',
        });
      }
      return scriptedBackend({ scriptPath: adapter.agents.scripted.script, env, sensitive: adapter.policy.scope.sensitive });
  }
}
