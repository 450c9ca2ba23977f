import type { Clock } from '../../src/clock.js';
import type { Adapter } from '../../src/config/schema.js';
import { adapterForRepo, bareTaskId, isMultiRepo, repoOfTask } from '../../src/config/repos.js';
import type { AgentPort } from '../../src/agents/port.js';
import type { Forge, HostTransport, Notifier } from '../../src/ports.js';
import type { AgentSandbox } from '../../src/sandbox/port.js';
import type { DispatchPool } from '../../src/dispatch/pool.js';
import type { AgentGatesPort } from '../../src/gates/agent-gates.js';
import type { Db } from '../../src/store/db.js';
import type { RoadmapSource } from '../../src/roadmap/source.js';

/** Everything the effects touch. Built once by the runtime; tests build their own. */
export interface EffectDeps {
  db: Db;
  clock: Clock;
  adapter: Adapter;
  pool: DispatchPool;
  forge: Forge;
  hosts: Map<string, HostTransport>;
  agents: AgentPort;
  notifier: Notifier;
  /** Where tasks come from (default: the markdown file at adapter.roadmap). */
  roadmap?: RoadmapSource;
  /** With `repos`: each repository's forge, by repository name (`forge` is the first one's). */
  forges?: Map<string, Forge>;
  /** With `repos`: each repository's roadmap source, by repository name. */
  roadmaps?: Map<string, RoadmapSource>;
  /** How stopped workers are treated: soft kill leaves them to finish their turn. */
  workerStopMode: () => 'detach' | 'terminate';
  /** Whether the killswitch is set right now (effects park instead of acting). */
  killed?: () => boolean;
  /** Sets the killswitch from inside the engine (main moved unexpectedly): durable, broadcast like \`oxi kill\`. */
  selfKill?: (reason: string) => void;
  /** Work that must finish before the engine stops (process-group kills). */
  track?: (p: Promise<unknown>) => void;
  /**
   * Terminates a worker's process group durably: recorded first, terminated at once on a reachable host,
   * else when its host answers again or at the next start. Never rejects.
   */
  terminateGroup?: (host: string, pid: number, task: string | null) => Promise<void>;
  /** Aborted when the engine stops: shadow runs (agents.shadow) end first, recorded as interrupted. */
  shadowStop?: AbortSignal;
  /**
   * Task → Infinity while a runAgent in this process attends its worker (launch, watch, reading its end), then the
   * time it stopped. An attended worker's exit is runAgent's to judge; the reaper takes only tasks nobody attends.
   */
  watchers?: Map<string, number>;
  /** Poll period of worker watching (ms). */
  watchIntervalMs?: number;
  /** The sandbox of each host (default: one per host from agents.sandbox, actors/sandbox/sandbox.ts). */
  sandboxes?: Map<string, AgentSandbox>;
  /** Closes dispatch after an environment error (full disk) until the logs dir takes a write again. */
  dispatchGate?: { block(error: unknown): void };
  /** The agent backends' gates (src/gates/agent-gates.ts): told how each worker session ended. */
  agentGates?: AgentGatesPort;
}

export function hostOf(deps: Pick<EffectDeps, 'hosts'>, name: string): HostTransport {
  const host = deps.hosts.get(name);
  if (!host) throw new Error(`Host "${name}" is not configured: expected one of ${[...deps.hosts.keys()].join(', ')}. Add it to hosts in the adapter.`);
  return host;
}

/** Task branch: the repository's prefix + the roadmap id (without the repository name) lowercased. */
export function branchName(adapter: Adapter, taskId: string): string {
  return `${adapter.branches.prefix}${bareTaskId(adapter, taskId).toLowerCase()}`;
}

/** The deps of one repository (its view of the adapter, its forge and roadmap); with `repo`, deps itself. */
export function depsForRepo(deps: EffectDeps, repo: string): EffectDeps {
  if (!isMultiRepo(deps.adapter) || deps.adapter.scopedTo === repo) return deps;
  return {
    ...deps,
    adapter: adapterForRepo(deps.adapter, repo),
    forge: deps.forges?.get(repo) ?? deps.forge,
    ...(deps.roadmaps?.get(repo) ? { roadmap: deps.roadmaps.get(repo) } : {}),
  };
}

/** The deps the task `taskId` acts with: its repository's. */
export function depsForTask(deps: EffectDeps, taskId: string): EffectDeps {
  return isMultiRepo(deps.adapter) ? depsForRepo(deps, repoOfTask(deps.adapter, taskId)) : deps;
}

export { clockSleep } from '../../src/clock.js';
