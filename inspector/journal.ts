import { listEvents, type LedgerRow } from '../src/store/ledger.js';
import type { Db } from '../src/store/db.js';
import { getSnapshotRow, listSnapshotHeads, snapshotOf } from '../src/store/snapshots.js';
import { sanitize } from './sanitize.js';
import { recentEventsOfActor } from '../src/store/ledger-queries.js';

/** One ledger row, with the transition it records spelled out when it is one. */
export interface JournalEntry {
  id: number;
  at: number;
  actor: string;
  kind: string;
  task: string | null;
  /** For a transition row: the status it left, the one it entered and the event that caused it. */
  from: string | null;
  to: string | null;
  event: string | null;
  payload: Record<string, unknown>;
}

export interface ActorState {
  actor: string;
  machine: string;
  /** xstate's snapshot status: active | done | error. */
  status: string;
  value: unknown;
  context: unknown;
  seq: number;
  updatedAt: number;
}

export interface Journal {
  actor: string;
  machine: string | null;
  /** The last persisted snapshot of the actor (none for a task still queued as a row). */
  current: ActorState | null;
  entries: JournalEntry[];
}

export function toEntry(row: LedgerRow, machine?: string | null): JournalEntry {
  let payload: Record<string, unknown> = {};
  try {
    payload = JSON.parse(row.payload) as Record<string, unknown>;
  } catch {
    payload = {};
  }
  const dot = row.kind.indexOf('.');
  const prefix = dot > 0 ? row.kind.slice(0, dot) : '';
  // The persister writes transitions as `<machine>.<to>` with {from, event}; everything else is a note.
  const isTransition = typeof payload.from === 'string' && (!machine || prefix === machine);
  return {
    id: row.id,
    at: row.at,
    actor: displayName(row.actor),
    kind: row.kind,
    task: row.task,
    from: isTransition ? (payload.from as string) : null,
    to: isTransition ? row.kind.slice(dot + 1) : null,
    event: isTransition && typeof payload.event === 'string' ? payload.event : null,
    payload: sanitize(payload) as Record<string, unknown>,
  };
}

export function actorState(db: Db, actor: string): ActorState | null {
  const row = getSnapshotRow(db, actor);
  if (!row) return null;
  const snapshot = snapshotOf(row) as { context?: unknown };
  return {
    actor: row.actor,
    machine: row.machine,
    status: row.status,
    value: JSON.parse(row.value),
    context: sanitize(snapshot.context ?? null),
    seq: row.seq,
    updatedAt: row.updated_at,
  };
}

/** The root actor was persisted under its session id (`x:0`) before it was named: it is the engine. */
export const displayName = (actor: string) => (actor === 'x:0' ? 'engine' : actor);
const storedNames = (actor: string) => (actor === 'engine' ? ['engine', 'x:0'] : [actor]);

/** Every actor with a persisted snapshot: the engine, engineState, hosts, background actors, tasks. */
export function listActors(db: Db): Array<Omit<ActorState, 'context'>> {
  const rows = listSnapshotHeads(db);
  const out = rows.map((r) => ({ actor: displayName(r.actor), machine: r.machine, status: r.status, value: JSON.parse(r.value), seq: r.seq, updatedAt: r.updated_at }));
  // A database from before the root was named holds it as `x:0`: one `engine`, the newer.
  return out.filter((a) => a.actor !== 'engine' || a.seq === Math.max(...out.filter((b) => b.actor === 'engine').map((b) => b.seq)));
}

/** A task's journal: its transitions and notes (spend, merges, recoveries), oldest first. */
export function taskJournal(db: Db, taskId: string): Journal {
  const actor = `task:${taskId}`;
  const current = actorState(db, actor);
  return { actor, machine: 'task', current, entries: listEvents(db, { task: taskId }).map((r) => toEntry(r, 'task')) };
}

/** Any actor's journal: the ledger rows it wrote. */
export function actorJournal(db: Db, actor: string, limit = 500): Journal {
  const names = storedNames(actor);
  const current = names.map((n) => actorState(db, n)).filter(Boolean).sort((a, b) => b!.seq - a!.seq)[0] ?? null;
  if (current) current.actor = actor;
  const rows = names.flatMap((n) => recentEventsOfActor(db, n, limit)).sort((a, b) => b.id - a.id).slice(0, limit);
  const machine = current?.machine ?? null;
  return { actor, machine, current, entries: rows.reverse().map((r) => toEntry(r, machine)) };
}
