import { activityLabel, type Activity } from '../agents/activity.js';
import { parseActivity, tasksPerBackend, workingActivity } from '../store/agent-activity.js';
import type { Db } from '../store/db.js';
import { agentGatesFromLedger } from '../gates/agent-gates.js';

export interface AgentSummary {
  /** Tasks whose worker is running now, with what it is doing. */
  working: Array<{ id: string; backend: string | null; activity: Activity | null; since: number | null }>;
  /** Tasks served per worker route (`backend/model`), all time. */
  backends: Record<string, number>;
  /** Each agent backend's gate as it stands (only backends whose gate ever closed): closed, why, until when. */
  gates: Array<{ backend: string; closed: boolean; reason: string | null; since: number | null; resetAt: number | null; outage: string | null }>;
}

/** The agents part of `oxi status`: which backend served each task, what each worker is doing. */
export function agentSummary(db: Db): AgentSummary {
  const working = workingActivity(db).map((r) => ({ id: r.id, backend: r.backend, activity: parseActivity(r.activity) ?? null, since: r.activity_at }));
  return { working, backends: tasksPerBackend(db), gates: agentGatesFromLedger(db) };
}

/** One line per working task for the human `oxi status`. */
export function agentLines(summary: AgentSummary): string[] {
  const served = Object.entries(summary.backends).map(([b, n]) => `${b} ${n}`).join(', ') || '—';
  const closed = (summary.gates ?? []).filter((g) => g.closed);
  return [
    `agents   ${served}`,
    // One line per closed backend: no new session starts there until its probe succeeds.
    ...closed.map((g) => `  gate ${g.backend} closed${g.outage ? ` (${g.outage})` : ''}: ${g.reason ?? ''}${g.resetAt ? ` — resets ${new Date(g.resetAt).toISOString()}` : ' — probing'}`),
    ...summary.working.map((w) => `  ${w.id.padEnd(9)} ${activityLabel(w.activity ?? undefined) || 'starting'}${w.backend ? ` on ${w.backend}` : ''}`),
  ];
}
