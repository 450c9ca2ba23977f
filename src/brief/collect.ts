/**
 * The facts of the daily brief, read from the ledger (`event`) and the task rows. Pure reads:
 * the same database and window always give the same brief.
 */
import { isAbsolute, join, relative } from 'node:path';
import type { Adapter } from '../config/schema.js';
import type { LedgerRow } from '../store/ledger.js';
import type { Db } from '../store/db.js';
import { readKillswitch } from '../store/engine-state.js';
import { dayStart, spendBetween, spendByRepoBetween } from '../store/ledger.js';
import { getSnapshotRow, snapshotOf } from '../store/snapshots.js';
import { getTask } from '../store/tasks.js';
import { eventsBetween } from '../store/ledger-queries.js';
import { currentTriage, latestTriage } from '../store/inference.js';
import { listTasks } from '../store/tasks.js';
import { knownRepos } from '../runtime/repo-summary.js';

export interface BriefData {
  project: string;
  window: { from: number; to: number; hours: number };
  /** The repositories this engine serves (one in single-repo mode) with their spend in the window and today (UTC): several make the brief label tasks and split spend. */
  repos: Array<{ name: string; windowUsd: number; todayUsd: number }>;
  merged: Array<{ task: string; repo: string | null; title: string; pr: number | null; costUsd: number; at: number; alreadyMerged: boolean }>;
  abandoned: Array<{ task: string; repo: string | null; title: string; reason: string | null; at: number; logs?: string; triage?: string }>;
  /** Tasks parked in awaiting_human with a triage summary (triage.enabled); absent when there are none. */
  waiting?: Array<{ task: string; title: string; triage: string }>;
  spend: {
    windowUsd: number;
    todayUsd: number;
    caps: { perTaskUsd: number; dailySoftUsd: number; dailyHardUsd: number };
    perMergedPrUsd: number | null;
    budgetStops: number;
  };
  reaped: Array<{ task: string; host: string | null; pid: number | null; at: number }>;
  kills: Array<{ at: number; kind: 'killed' | 'resumed'; reason?: string | null; by?: string | null }>;
  killswitch: { killed: boolean; reason: string | null; by: string | null; hard: boolean };
  hosts: Array<{ name: string; status: string; inUse: number | null; capacity: number | null; lastError: string | null; unreachableEvents: number }>;
}

type EventRow = LedgerRow;

const KINDS = ['task.merged', 'task.abandoned', 'reaper.reaped', 'engineState.killed', 'engineState.running', 'auto_merge.noop_already_merged', 'budget.hard_cap', 'host.unreachable'];

export function collectBrief(db: Db, adapter: Adapter, opts: { now: number; hours: number }): BriefData {
  const to = opts.now;
  const from = to - opts.hours * 3_600_000;
  const events = eventsBetween(db, from, to + 1, KINDS);
  const taskOf = (id: string | null) => (id ? getTask(db, id) : undefined);
  const payloadOf = (e: EventRow) => JSON.parse(e.payload) as Record<string, unknown>;
  const triage = latestTriage(db);

  // Each task once, by its last end in the window: one abandoned, retried and merged is merged only.
  const lastEnd = new Map<string, number>();
  for (const e of events) if ((e.kind === 'task.merged' || e.kind === 'task.abandoned') && e.task) lastEnd.set(e.task, e.id);
  const final = (e: EventRow) => !e.task || lastEnd.get(e.task) === e.id;
  const alreadyMerged = new Set(events.filter((e) => e.kind === 'auto_merge.noop_already_merged').map((e) => e.task));
  const merged = events
    .filter((e) => e.kind === 'task.merged' && final(e))
    .map((e) => {
      const t = taskOf(e.task);
      return { task: e.task ?? '?', repo: t?.repo ?? null, title: t?.title ?? '', pr: t?.pr ?? null, costUsd: round(t?.cost_usd ?? 0), at: e.at, alreadyMerged: alreadyMerged.has(e.task) };
    });
  const abandoned = events
    .filter((e) => e.kind === 'task.abandoned' && final(e))
    .map((e) => {
      const t = taskOf(e.task);
      const summary = t ? currentTriage(triage, t) : undefined;
      return { task: e.task ?? '?', repo: t?.repo ?? null, title: t?.title ?? '', reason: firstLine(t?.reason ?? null), at: e.at, logs: shortPath(adapter, join(adapter.paths.logs, e.task ?? '?')), ...(summary ? { triage: summary } : {}) };
    });
  const waiting = listTasks(db, { status: 'awaiting_human' }).flatMap((t) => {
    const summary = currentTriage(triage, t);
    return summary ? [{ task: t.id, title: t.title, triage: summary }] : [];
  });
  const reaped = events
    .filter((e) => e.kind === 'reaper.reaped')
    .map((e) => {
      const p = payloadOf(e);
      return { task: String(p.task ?? e.task ?? '?'), host: (p.host as string | null) ?? null, pid: (p.pid as number | null) ?? null, at: e.at };
    });
  const kills = events
    .filter((e) => e.kind === 'engineState.killed' || (e.kind === 'engineState.running' && payloadOf(e).from === 'killed'))
    .map((e) => {
      const p = payloadOf(e);
      return { at: e.at, kind: e.kind === 'engineState.killed' ? ('killed' as const) : ('resumed' as const), reason: typeof p.reason === 'string' ? p.reason : null, by: typeof p.by === 'string' ? p.by : null };
    });

  const windowUsd = round(spendBetween(db, from, to + 1));
  const kill = readKillswitch(db);
  const names = knownRepos(adapter, db);
  const inWindow = spendByRepoBetween(db, from, to + 1);
  const today = spendByRepoBetween(db, dayStart(to), to + 1);
  return {
    project: adapter.name,
    repos: names.map((name) => ({ name, windowUsd: round(inWindow[name] ?? 0), todayUsd: round(today[name] ?? 0) })),
    window: { from, to, hours: opts.hours },
    merged,
    abandoned,
    ...(waiting.length ? { waiting } : {}),
    spend: {
      windowUsd,
      todayUsd: round(spendBetween(db, dayStart(to), to + 1)),
      caps: { ...adapter.budget },
      perMergedPrUsd: merged.length ? round(windowUsd / merged.length) : null,
      budgetStops: events.filter((e) => e.kind === 'budget.hard_cap').length,
    },
    reaped,
    kills,
    killswitch: { killed: kill.killed, reason: kill.reason, by: kill.by, hard: kill.hard },
    hosts: hostHealth(db, adapter, events),
  };
}

function hostHealth(db: Db, adapter: Adapter, events: EventRow[]): BriefData['hosts'] {
  return adapter.hosts.map((h) => {
    const row = getSnapshotRow(db, `host:${h.name}`);
    const context = row ? ((snapshotOf(row) as { context?: Record<string, unknown> }).context ?? {}) : {};
    return {
      name: h.name,
      status: row ? hostStatus(JSON.parse(row.value)) : 'never seen',
      inUse: typeof context.inUse === 'number' ? context.inUse : null,
      capacity: typeof context.capacity === 'number' ? context.capacity : null,
      lastError: typeof context.lastError === 'string' ? context.lastError : null,
      unreachableEvents: events.filter((e) => e.kind === 'host.unreachable' && e.actor === `host:${h.name}`).length,
    };
  });
}

/** `{live:{available:'ready'}}` → `ready`; `{live:'unreachable'}` → `unreachable`; `held` → `held`. */
function hostStatus(value: unknown): string {
  let v = value;
  while (v && typeof v === 'object') {
    const [key, inner] = Object.entries(v)[0] ?? ['unknown', undefined];
    if (typeof inner === 'string') return inner;
    if (inner === undefined) return key;
    v = inner;
  }
  return String(v);
}

function round(usd: number): number {
  return Math.round(usd * 100) / 100;
}

/** A failure reason in one line: the first failing test or error (the full text is in the task's logs). */
export function firstLine(reason: string | null): string | null {
  if (!reason) return reason;
  const lines = reason.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const failing = lines.find((l) => /^(not ok\b|✖|✗|×|FAIL\b)|\b(AssertionError|Error)\b/.test(l));
  const head = lines[0] ?? '';
  const picked = failing && failing !== head ? `${head.replace(/[:\s]+$/, '')}: ${failing}` : head;
  return picked.length > 200 ? `${picked.slice(0, 199)}…` : picked;
}

/** A path under the project as the operator types it (relative to the repository), else absolute. */
export function shortPath(adapter: Adapter, path: string): string {
  const rel = relative(adapter.repo.path, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
