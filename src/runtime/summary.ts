import type { Db } from '../store/db.js';
import { readKillswitch } from '../store/engine-state.js';
import { dayStart, spendBetween } from '../store/ledger.js';
import { countsByStatus } from '../store/tasks.js';
import { agentSummary, type AgentSummary } from './agent-summary.js';
import type { EngineHandle } from './engine.js';
import type { LiveConfig } from './live-config.js';

export interface StatusSummary {
  engine: { state: 'running' | 'killed' | 'halted' | 'stopped'; killed: boolean; reason: string | null; by: string | null; at: number | null; hard: boolean };
  counts: Record<string, number>;
  hosts: Array<{ name: string; capacity: number; inUse: number; blocked: boolean }>;
  spend: { today: number };
  agents: AgentSummary;
  /** The config the daemon runs with (its answer only; null when it was built without a config file). */
  config?: LiveConfig | null;
}

/** What `oxi status` prints: from the live engine when there is one, else from the database. */
export function snapshotSummary(db: Db, engine?: EngineHandle, now = Date.now()): StatusSummary {
  const kill = readKillswitch(db);
  const running = engine ? (engine.engineStatus() === 'halted' ? 'halted' : kill.killed ? 'killed' : 'running') : kill.killed ? 'killed' : 'stopped';
  return {
    engine: { state: running, killed: kill.killed, reason: kill.reason, by: kill.by, at: kill.at, hard: kill.hard },
    counts: countsByStatus(db),
    hosts: engine ? engine.pool.hosts() : [],
    spend: { today: Math.round(spendBetween(db, dayStart(now), now + 1) * 10_000) / 10_000 },
    agents: agentSummary(db),
  };
}
