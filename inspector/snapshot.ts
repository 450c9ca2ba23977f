import { z } from 'zod';
import { SLOT_STATES } from '../machines/task.js';
import type { Adapter } from '../src/config/schema.js';
import { adapterForTask } from '../src/config/repos.js';
import type { EngineHandle } from '../src/runtime/engine.js';
import { dispatchPausedReason } from '../src/gates/environment-gate.js';
import { lastLiveConfig } from '../src/runtime/live-config.js';
import { readPid } from '../src/runtime/pidfile.js';
import { snapshotSummary } from '../src/runtime/summary.js';
import { repoSummaries } from '../src/runtime/repo-summary.js';
import type { Db } from '../src/store/db.js';
import { listTasks, type TaskRow } from '../src/store/tasks.js';
import { currentTriage, latestTriage } from '../src/store/inference.js';
import { shadowReport } from '../src/store/shadow.js';
import { RETRY_TASK_STATUSES as RETRYABLE_LIVE } from '../machines/status.js';
import { localSandboxStatus } from '../actors/sandbox/sandbox.js';
import { buildPromoteView, promoteView } from './promote-view.js';

export const SNAPSHOT_SCHEMA = 'oxi.snapshot.v1';

const taskView = z.object({
  id: z.string(),
  title: z.string(),
  /** The repository the task belongs to (the adapter's name in single-repo mode); the id is `<repo>/<id>` in multi-repo mode. */
  repo: z.string(),
  tier: z.number().int(),
  status: z.string(),
  /** queued: not started; in_flight: a live task; completed: merged or abandoned. */
  phase: z.enum(['queued', 'in_flight', 'completed']),
  host: z.string().nullable(),
  attempts: z.number().int().min(1),
  costUsd: z.number().min(0),
  pr: z.object({ number: z.number().int(), url: z.string() }).nullable(),
  reason: z.string().nullable(),
  lastProgressAt: z.number().int(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  onRoadmap: z.boolean(),
  /** Whether a retry means something now (the dashboard's button, `oxi send task:<id> task.retry`). Optional: older snapshots lack it. */
  retryable: z.boolean().optional(),
  /** Why it stopped, in one paragraph (triage.enabled; `task.triage` ledger row), while it is stopped there. Absent otherwise. */
  triage: z.string().optional(),
});

const shadowSide = { backend: z.string(), model: z.string().nullable(), outcome: z.string().nullable(), files: z.array(z.string()).nullable(), costUsd: z.number().nullable() };

/** The "agent shadow" panel (agents.shadow): the last 50 pairs, the agreement rate (share of `shape_match`), the cost delta. */
const shadowView = z.object({
  enabled: z.boolean(),
  pairs: z.array(z.object({
    task: z.string(), attempt: z.number().int(), fix: z.number().int(), startSha: z.string(),
    real: z.object(shadowSide),
    shadow: z.object({ ...shadowSide, status: z.string(), error: z.string().nullable(), checks: z.string().nullable(), checksReason: z.string().nullable() }),
    shape_match: z.boolean().nullable(),
    costDeltaUsd: z.number().nullable(),
    startedAt: z.number().int(),
    endedAt: z.number().int().nullable(),
  })),
  compared: z.number().int().min(0),
  matched: z.number().int().min(0),
  agreementRate: z.number().min(0).max(1).nullable(),
  realCostUsd: z.number(),
  shadowCostUsd: z.number(),
  costDeltaUsd: z.number(),
});

/** The versioned snapshot every display client can rely on (documented in docs/dashboard.md). */
export const snapshotSchema = z.object({
  schema: z.literal(SNAPSHOT_SCHEMA),
  generatedAt: z.number().int(),
  project: z.string(),
  engine: z.object({
    state: z.enum(['running', 'killed', 'halted', 'stopped']),
    killed: z.boolean(),
    reason: z.string().nullable(),
    by: z.string().nullable(),
    at: z.number().nullable(),
    hard: z.boolean(),
    /** Why dispatch is paused by the machine (a full logs disk…) until a probe succeeds, or null. */
    dispatchPaused: z.string().nullable(),
    /** Whether an engine is attached (in this process, or a daemon for this project). */
    attached: z.boolean(),
  }),
  /** Whether agents on this machine run sandboxed (`available: false`: the page says "agents are NOT sandboxed"). */
  sandbox: z.object({ kind: z.enum(['bubblewrap', 'sandbox-exec', 'none']), available: z.boolean(), reason: z.string() }),
  hosts: z.array(z.object({
    name: z.string(), capacity: z.number().int().min(0), inUse: z.number().int().min(0), blocked: z.boolean(),
    /** With a live engine: the host actor's state (ready, saturated, unreachable…) and its last probe error. */
    state: z.string().optional(), lastError: z.string().nullable().optional(), failures: z.number().int().min(0).optional(),
  })),
  /** Closed outage gates (an agent backend rate-limited or refusing its key, the forge refusing its token): the banner. */
  gates: z.array(z.object({ name: z.string(), reason: z.string().nullable(), since: z.number().nullable(), resetAt: z.number().nullable() })).default([]),
  tasks: z.array(taskView),
  counts: z.record(z.string(), z.number().int()),
  spend: z.object({
    today: z.number().min(0),
    dailySoftUsd: z.number(),
    dailyHardUsd: z.number(),
    perTaskUsd: z.number(),
    currency: z.literal('USD'),
    /** open: new tasks start; soft: past the soft cap, no new task starts today; hard: nothing that spends starts today. */
    gate: z.enum(['open', 'soft', 'hard']),
  }),
  /** Each repository's task counts and today's spend (one entry in single-repo mode). Optional: older snapshots lack it. */
  repos: z.array(z.object({
    name: z.string(),
    counts: z.record(z.string(), z.number().int()),
    todayUsd: z.number().min(0),
    dailyHardUsd: z.number().nullable(),
  })).optional(),
  /** The config the attached daemon started with (its `config.loaded` row): file, sha256, the commit it came from. Optional: older snapshots lack it. */
  config: z.object({ path: z.string(), sha256: z.string(), commit: z.string().optional() }).nullable().optional(),
  /** Shadow runs (agents.shadow). Optional: older snapshots lack it. */
  shadow: shadowView.optional(),
  /** The promote recipes and their last runs (without output tails: /api/v1/promote has them). Absent when none is configured. */
  promote: promoteView.optional(),
});

export type Snapshot = z.infer<typeof snapshotSchema>;
export type TaskView = z.infer<typeof taskView>;

const SLOT = new Set<string>(SLOT_STATES);

/** Where the page can show a PR: the forge's web page, or our own API for the local forge. */
export function prUrl(adapter: Adapter, pr: number): string {
  const forge = adapter.repo.forge;
  if (forge.kind === 'github') {
    const web = forge.apiUrl ? new URL(forge.apiUrl).origin : 'https://github.com';
    return `${web}/${forge.owner}/${forge.name}/pull/${pr}`;
  }
  return `/prs/${pr}`;
}

export function toTaskView(adapter: Adapter, t: TaskRow, triage?: string): TaskView {
  const phase = t.status === 'queued' ? 'queued' : t.status === 'merged' || t.status === 'abandoned' ? 'completed' : 'in_flight';
  return {
    id: t.id,
    title: t.title,
    repo: t.repo,
    tier: t.tier,
    status: t.status,
    phase,
    host: t.host,
    attempts: t.attempt + 1,
    costUsd: Math.round(t.cost_usd * 10_000) / 10_000,
    pr: t.pr === null ? null : { number: t.pr, url: prUrl(adapterForTask(adapter, t), t.pr) },
    reason: t.reason,
    lastProgressAt: t.last_progress_at,
    createdAt: t.created_at,
    updatedAt: t.updated_at,
    onRoadmap: t.roadmap_state === 'present',
    retryable: t.status === 'abandoned' || (RETRYABLE_LIVE as readonly string[]).includes(t.status),
    ...(triage === undefined ? {} : { triage }),
  };
}

/**
 * The whole picture in one object: from the live engine when it runs in this process, else
 * from the database (a standalone `oxi dashboard` next to a daemon, or with none).
 */
export function buildSnapshot(db: Db, adapter: Adapter, engine?: EngineHandle, now = Date.now()): Snapshot {
  const summary = snapshotSummary(db, engine, now);
  const rows = listTasks(db);
  const triage = latestTriage(db);
  const daemon = engine ? undefined : readPid(adapter.paths.stateDir);
  let state = summary.engine.state;
  if (!engine && daemon) state = summary.engine.killed ? 'killed' : 'running';
  const hosts = engine
    ? summary.hosts
    : adapter.hosts.map((h) => ({ name: h.name, capacity: h.maxWorkers, inUse: rows.filter((t) => t.host === h.name && SLOT.has(t.status)).length, blocked: false }));
  return {
    schema: SNAPSHOT_SCHEMA,
    generatedAt: now,
    project: adapter.name,
    engine: { ...summary.engine, state, dispatchPaused: dispatchPausedReason(db), attached: Boolean(engine || daemon) },
    sandbox: localSandboxStatus(adapter.agents.sandbox),
    hosts,
    gates: [
      ...summary.agents.gates.filter((g) => g.closed).map((g) => ({ name: `agent:${g.backend}`, reason: g.reason, since: g.since, resetAt: g.resetAt })),
      ...(summary.forge.gate.closed ? [{ name: 'forge', reason: summary.forge.gate.reason, since: summary.forge.gate.since, resetAt: null }] : []),
    ],
    tasks: rows.map((t) => toTaskView(adapter, t, currentTriage(triage, t))),
    counts: summary.counts,
    spend: {
      today: summary.spend.today,
      dailySoftUsd: adapter.budget.dailySoftUsd,
      dailyHardUsd: adapter.budget.dailyHardUsd,
      perTaskUsd: adapter.budget.perTaskUsd,
      currency: 'USD',
      gate: summary.spend.today >= adapter.budget.dailyHardUsd ? 'hard' : summary.spend.today >= adapter.budget.dailySoftUsd ? 'soft' : 'open',
    },
    repos: repoSummaries(adapter, db, now),
    config: engine || daemon ? liveOf(lastLiveConfig(db)) : null,
    // Only where shadow runs are on, or were: with agents.shadow absent the snapshot is what it always was.
    ...shadowField(db, adapter),
    ...promoteOf(db, adapter),
  };
}

function shadowField(db: Db, adapter: Adapter): { shadow?: NonNullable<Snapshot['shadow']> } {
  const shadow = shadowOf(db, adapter);
  return shadow.enabled || shadow.pairs.length ? { shadow } : {};
}

/** The "agent shadow" panel's data, the same as `oxi shadow --json`. */
export function shadowOf(db: Db, adapter: Adapter): NonNullable<Snapshot['shadow']> {
  return { enabled: Boolean(adapter.agents.shadow), ...shadowReport(db, 50) };
}

function promoteOf(db: Db, adapter: Adapter): { promote?: Snapshot['promote'] } {
  const view = buildPromoteView(db, adapter);
  return view ? { promote: view } : {};
}

/** The snapshot's view of a `config.loaded` row (without the daemon's pid). */
function liveOf(row: ReturnType<typeof lastLiveConfig>): Snapshot['config'] {
  return row ? { path: row.path, sha256: row.sha256, ...(row.commit ? { commit: row.commit } : {}) } : null;
}
