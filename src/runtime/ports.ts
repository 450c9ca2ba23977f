import type { AgentPort } from '../agents/port.js';
import { scriptedBackend, assertBackendSupported } from '../../actors/scripted-agent/backend.js';
import { LocalForge } from '../../actors/local-forge.js';
import { githubForgeFor } from '../../actors/github/from-adapter.js';
import { LocalHost } from '../../actors/local-host.js';
import type { Clock } from '../clock.js';
import type { Adapter } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { Forge, HostTransport, Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { agentEnv } from './env.js';
import { makeNotifier } from './notifier.js';

export interface PortOverrides {
  forge?: Forge;
  hosts?: Map<string, HostTransport>;
  agents?: AgentPort;
  notifier?: Notifier;
}

/** The ports of ARCHITECTURE §5 for this adapter: embedded defaults unless overridden. */
export function buildPorts(adapter: Adapter, db: Db, clock: Clock, overrides: PortOverrides = {}) {
  const env = agentEnv(adapter);
  const hosts = overrides.hosts ?? new Map<string, HostTransport>();
  if (!overrides.hosts) {
    for (const h of adapter.hosts) {
      if (h.kind !== 'local') {
        throw new ConfigError(`hosts.${h.name}: expected a local host, got kind "${h.kind}": the SSH transport is not part of this build.`, {
          fix: 'Use { name: "local", kind: "local" } for now.',
        });
      }
      hosts.set(h.name, new LocalHost(h.name));
    }
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
      env,
      now: () => clock.now(),
    });
  }
  let agents = overrides.agents;
  if (!agents) {
    for (const role of ['planner', 'worker', 'critic'] as const) assertBackendSupported(adapter.agents[role].backend);
    if (!adapter.agents.scripted.script) {
      throw new ConfigError('agents.scripted.script: expected the path of the scripted agent\'s script, got nothing.', {
        fix: 'Set agents.scripted.script to a JSON script (see docs/scripted-agent.md).',
      });
    }
    agents = scriptedBackend({ scriptPath: adapter.agents.scripted.script, env, sensitive: adapter.policy.scope.sensitive });
  }
  const notifier = overrides.notifier ?? makeNotifier(adapter);
  return {
    hosts,
    forge,
    agents,
    notifier,
    async close() {
      await Promise.allSettled([...hosts.values()].map((h) => h.close?.()));
    },
  };
}
