import type { AgentPort } from '../agents/port.js';
import { agentRouter, type RouterOptions } from '../../actors/agents/router.js';
import { LocalForge } from '../../actors/forges/local-forge.js';
import { engineMachine, sandboxOf } from '../../actors/sandbox/sandbox.js';
import { githubForgeFor } from '../../actors/forges/github/from-adapter.js';
import { LocalHost } from '../../actors/hosts/local-host.js';
import { sshHostFromConfig } from '../../actors/hosts/ssh/from-adapter.js';
import { roadmapSourceFor } from '../../actors/roadmap/from-adapter.js';
import type { RoadmapSource } from '../roadmap/source.js';
import type { Clock } from '../clock.js';
import type { Adapter } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { Forge, HostTransport, Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { agentEnv } from '../agents/env.js';
import { makeNotifier, type DeliveringNotifier } from '../notify/notifier.js';
import { AgentGates } from '../gates/agent-gates.js';
import { ForgeGate } from '../gates/forge-gate.js';
import { checksEnv } from '../agents/phase-env.js';
import { adapterForRepo, repoNames } from '../config/repos.js';

export interface PortOverrides {
  forge?: Forge;
  hosts?: Map<string, HostTransport>;
  agents?: AgentPort;
  /** Replace agent backends behind the router (its routes, fallbacks and gates still apply). */
  backends?: RouterOptions['backends'];
  notifier?: Notifier;
  roadmap?: RoadmapSource;
  /** With `repos`: forges by repository name (`forge` stands for the first repository's). */
  forges?: Map<string, Forge>;
  /** With `repos`: roadmap sources by repository name (`roadmap` stands for the first repository's). */
  roadmaps?: Map<string, RoadmapSource>;
}

/** The forge one repository's view of the adapter describes: GitHub, else the local forge (checks run here, sandboxed). */
function forgeFor(adapter: Adapter, db: Db, clock: Clock): Forge {
  if (adapter.repo.forge.kind === 'github') return githubForgeFor(adapter, clock);
  return new LocalForge({
    db,
    repo: adapter.repo.path,
    mainBranch: adapter.repo.mainBranch,
    checksCommand: adapter.checks.command,
    checksTimeoutMs: adapter.checks.timeoutMs,
    branchPrefix: adapter.branches.prefix,
    ...(adapter.scopedTo ? { repoName: adapter.scopedTo } : {}),
    // The checks' own allow list (checks.env), else the agents' whitelist.
    env: checksEnv(adapter),
    sandbox: async (argv, cwd, checksEnv) => (await sandboxOf(adapter, engineMachine).wrap({ role: 'checks', backend: 'checks', argv, env: checksEnv, workspace: cwd, writable: true, waited: true })).argv,
    now: () => clock.now(),
  });
}

/** The ports of ARCHITECTURE §5 for this adapter: embedded defaults unless overridden. */
export function buildPorts(adapter: Adapter, db: Db, clock: Clock, overrides: PortOverrides = {}) {
  const env = agentEnv(adapter);
  const hosts = overrides.hosts ?? new Map<string, HostTransport>();
  if (!overrides.hosts) {
    for (const h of adapter.hosts) hosts.set(h.name, h.kind === 'ssh' ? sshHostFromConfig(h) : new LocalHost(h.name));
  }
  const notifier = overrides.notifier ?? makeNotifier(adapter);
  // Outages close gates (src/gates/gate.ts): per agent backend, and the forge; probed from the engine's backoff base.
  const probe = { probeBaseMs: adapter.engine.backoffBaseMs, probeMaxMs: adapter.engine.backoffMaxMs };
  const agentGates = new AgentGates({ db, clock, notifier, ...probe });
  const forgeGate = new ForgeGate({ db, clock, notifier, ...probe });
  // Each role routes to {backend, model, fallbacks}: scripted, claude or codex (actors/agents/router.ts).
  const agents = overrides.agents ?? agentRouter({ adapter, env, db, gates: agentGates, now: () => clock.now(), ...(overrides.backends ? { backends: overrides.backends } : {}) });
  // One forge and one roadmap source per repository (with `repo`, the one of the adapter).
  const forges = new Map<string, Forge>();
  const roadmaps = new Map<string, RoadmapSource>();
  for (const name of repoNames(adapter)) {
    const scoped = adapterForRepo(adapter, name);
    const given = overrides.forges?.get(name) ?? (name === repoNames(adapter)[0] ? overrides.forge : undefined);
    forges.set(name, forgeGate.wrap(given ?? forgeFor(scoped, db, clock)));
    const source = overrides.roadmaps?.get(name) ?? (name === repoNames(adapter)[0] ? overrides.roadmap : undefined);
    roadmaps.set(name, source ?? roadmapSourceFor(scoped));
  }
  const first = repoNames(adapter)[0];
  return {
    hosts,
    roadmap: roadmaps.get(first)!,
    roadmaps,
    forges,
    forge: forges.get(first)!,
    agents,
    notifier,
    agentGates,
    forgeGate,
    async close() {
      // Pending notifications (an escalation just before exit) get a bounded chance to be delivered.
      agentGates.stop();
      forgeGate.stop();
      const flush = (notifier as Partial<DeliveringNotifier>).flush?.(10_000);
      await Promise.allSettled([...[...hosts.values()].map((h) => h.close?.()), flush]);
    },
  };
}
