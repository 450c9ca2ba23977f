import type { Db } from '../store/db.js';
import { readKillswitch } from '../store/engine-state.js';
import { dayStart, spendBetween } from '../store/ledger.js';
import { countsByStatus } from '../store/tasks.js';
import { agentSummary, type AgentSummary } from './agent-summary.js';
import { forgeGateFromLedger } from '../gates/forge-gate.js';
import type { EngineHandle } from './engine.js';
import type { LiveConfig } from './live-config.js';
import { statusOf, type StateValue } from '../../machines/status.js';

export interface StatusSummary {
  engine: { state: 'running' | 'killed' | 'halted' | 'stopped'; killed: boolean; reason: string | null; by: string | null; at: number | null; hard: boolean };
  counts: Record<string, number>;
  hosts: HostSummary[];
  spend: { today: number };
  agents: AgentSummary;
  /** The config the daemon runs with (its answer only; null when it was built without a config file). */
  config?: LiveConfig | null;
  /** The forge's gate: closed after a 401/403 until a probe succeeds. */
  forge: { gate: { closed: boolean; reason: string | null; since: number | null } };
}

export interface HostSummary {
  name: string;
  capacity: number;
  inUse: number;
  blocked: boolean;
  /** The host actor's state: connecting, ready, saturated, unreachable, draining, held. */
  state?: string;
  /** Why it is unreachable (the last failed probe), null once a probe succeeds. */
  lastError?: string | null;
  /** Failed probes in a row. */
  failures?: number;
}

/** Each host's slots, with its actor's state and last error (an unreachable host says why it has no slots). */
function hostSummaries(engine: EngineHandle): HostSummary[] {
  return engine.pool.hosts().map((h) => {
    const snap = engine.actor.system.get(`host:${h.name}`)?.getSnapshot() as { value: StateValue; context: { lastError: string | null; failures: number } } | undefined;
    if (!snap) return h;
    return { ...h, state: statusOf(snap.value), lastError: snap.context.lastError, failures: snap.context.failures };
  });
}

/** What `oxi status` prints: from the live engine when there is one, else from the database. */
export function snapshotSummary(db: Db, engine?: EngineHandle, now = Date.now()): StatusSummary {
  const kill = readKillswitch(db);
  const running = engine ? (engine.engineStatus() === 'halted' ? 'halted' : kill.killed ? 'killed' : 'running') : kill.killed ? 'killed' : 'stopped';
  return {
    engine: { state: running, killed: kill.killed, reason: kill.reason, by: kill.by, at: kill.at, hard: kill.hard },
    counts: countsByStatus(db),
    hosts: engine ? hostSummaries(engine) : [],
    spend: { today: Math.round(spendBetween(db, dayStart(now), now + 1) * 10_000) / 10_000 },
    agents: agentSummary(db),
    forge: { gate: forgeGateFromLedger(db) },
  };
}
