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

export interface PortOverrides {
  forge?: Forge;
  hosts?: Map<string, HostTransport>;
  agents?: AgentPort;
  /** Replace agent backends behind the router (its routes, fallbacks and gates still apply). */
  backends?: RouterOptions['backends'];
  notifier?: Notifier;
  roadmap?: RoadmapSource;
}

/** The ports of ARCHITECTURE §5 for this adapter: embedded defaults unless overridden. */
export function buildPorts(adapter: Adapter, db: Db, clock: Clock, overrides: PortOverrides = {}) {
  const env = agentEnv(adapter);
  const hosts = overrides.hosts ?? new Map<string, HostTransport>();
  if (!overrides.hosts) {
    for (const h of adapter.hosts) hosts.set(h.name, h.kind === 'ssh' ? sshHostFromConfig(h) : new LocalHost(h.name));
  }
  let forge = overrides.forge;
  if (!forge && adapter.repo.forge.kind === 'github') forge = githubForgeFor(adapter, clock);
  if (!forge) {
    forge = new LocalForge({
      db,
      repo: adapter.repo.path,
      mainBranch: adapter.repo.mainBranch,
      checksCommand: adapter.checks.command,
      checksTimeoutMs: adapter.checks.timeoutMs,
      branchPrefix: adapter.branches.prefix,
      // The checks' own allow list (checks.env), else the agents' whitelist.
      env: checksEnv(adapter),
      sandbox: async (argv, cwd, checksEnv) => (await sandboxOf(adapter, engineMachine).wrap({ role: 'checks', backend: 'checks', argv, env: checksEnv, workspace: cwd, writable: true, waited: true })).argv,
      now: () => clock.now(),
    });
  }
  const notifier = overrides.notifier ?? makeNotifier(adapter);
  // Outages close gates (src/gates/gate.ts): per agent backend, and the forge; probed from the engine's backoff base.
  const probe = { probeBaseMs: adapter.engine.backoffBaseMs, probeMaxMs: adapter.engine.backoffMaxMs };
  const agentGates = new AgentGates({ db, clock, notifier, ...probe });
  const forgeGate = new ForgeGate({ db, clock, notifier, ...probe });
  // Each role routes to {backend, model, fallbacks}: scripted, claude or codex (actors/agents/router.ts).
  const agents = overrides.agents ?? agentRouter({ adapter, env, db, gates: agentGates, now: () => clock.now(), ...(overrides.backends ? { backends: overrides.backends } : {}) });
  const roadmap = overrides.roadmap ?? roadmapSourceFor(adapter);
  return {
    hosts,
    roadmap,
    forge: forgeGate.wrap(forge),
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
