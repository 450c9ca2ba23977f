import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { Clock } from '../clock.js';
import { batchInsert, batchUpdateReturning } from './batch.js';
import type { Db } from './db.js';
import { ledgerWorthy, statusOf, type StateValue } from '../../machines/status.js';
import { isMachineActor, isRootOwned, machineIdOf, persistedSnapshotOf } from '../../machines/xstate-internals.js';
import { maxSnapshotSeq } from './snapshots.js';

/** One committed actor change, handed to listeners after the transaction commits. */
export interface CommittedChange {
  actor: string;
  machine: string;
  status: string;
  value: StateValue;
  context: Record<string, unknown>;
  at: number;
}

export interface PersisterOptions {
  db: Db;
  clock: Clock;
  /** After every committed macrostep: pool leases, dashboard pushes, kill file. */
  onCommit?: (changes: CommittedChange[]) => void;
  /** A failed write: the daemon must stop, restarting from the last committed state. */
  onError?: (error: unknown) => void;
}

const UNCHANGED = Object.freeze({});

interface Pending {
  ref: AnyActorRef;
  snapshot: { status: string; value: StateValue; context: Record<string, unknown> };
  transitions: Array<{ from: string; to: string; event: string }>;
  notes: Array<{ kind: string; payload?: Record<string, unknown> }>;
}

/** The batched statements one commit runs. */
function prepareWrites(db: Db) {
  return {
    upsertSnapshots: batchInsert(
      db,
      'INSERT INTO actor_snapshot (actor, machine, status, value, snapshot, context, seq, updated_at)',
      8,
      // A NULL context means "unchanged since the last write": the stored one stays.
      `ON CONFLICT(actor) DO UPDATE SET machine=excluded.machine, status=excluded.status, value=excluded.value,
         snapshot=excluded.snapshot, context=COALESCE(excluded.context, actor_snapshot.context), seq=excluded.seq,
         updated_at=excluded.updated_at`,
    ),
    // The only statement that changes a task's status: it always stamps last_progress_at, and writes the
    // task actor's snapshot in the same row (migration 7), so a transition dirties one leaf, not two.
    // Returns the ids it updated: a task actor with no row keeps its snapshot in actor_snapshot.
    updateTasks: batchUpdateReturning(
      db,
      'tasks',
      'id',
      17,
      `status=v.column2, last_progress_at=v.column3, updated_at=v.column3, plan=v.column4, attempt=v.column5, branch=v.column6,
         worktree=v.column7, host=v.column8, pr=v.column9, cost_usd=v.column10, reason=v.column11,
         last_deferred_at=COALESCE(v.column12, tasks.last_deferred_at), snap_status=v.column13, snap_value=v.column14,
         snap_seq=v.column15, snap_at=v.column3, snapshot=v.column16, snap_context=COALESCE(v.column17, tasks.snap_context)`,
    ),
    insertEvents: batchInsert(db, 'INSERT INTO event (at, actor, kind, task, payload)', 5),
    writeEngineState: db.prepare('UPDATE engine_state SET killed=?, hard=?, reason=?, by=?, at=? WHERE id=1'),
  };
}

/** Effect actors (not machines) stay inside their machine's snapshot; child machines persist as rows of their own. */
function ownedChildren(snapshot: Pending['snapshot']): Record<string, AnyActorRef> {
  const children = (snapshot as unknown as { children?: Record<string, AnyActorRef> }).children ?? {};
  const owned: Record<string, AnyActorRef> = {};
  for (const [id, child] of Object.entries(children)) if (!isMachineActor(child)) owned[id] = child;
  return owned;
}

/** The task row's columns, from the task machine's context (`[id, status, at, plan, …]`, as updateTasks reads them). */
function taskRow(taskId: string, status: string, context: Record<string, any>, at: number): unknown[] {
  const c = context;
  return [
    taskId, status, at, c.plan ? JSON.stringify(c.plan) : null, c.attempt ?? 0, c.branch ?? null, c.worktree ?? null, c.host ?? null,
    c.pr ?? null, c.costUsd ?? 0, c.reason ?? null, status === 'deferred' ? c.deferredAt ?? at : null,
  ];
}

/** The engine_state columns, from the engineState machine (`[killed, hard, reason, by, at]`). */
function engineStateRow(status: string, context: Record<string, any>): unknown[] {
  const killed = status === 'killed';
  return [killed ? 1 : 0, context.hard ? 1 : 0, killed ? context.reason : null, context.by ?? null, killed ? context.at : null];
}

/** Ledger rows: one per worthwhile state change, one per note an effect carried. */
function ledgerRows(p: Pending, machine: string, taskId: string | null, at: number): unknown[][] {
  const rows: unknown[][] = [];
  for (const t of p.transitions) {
    if (!ledgerWorthy(machine, t.from, t.to)) continue;
    // A kill's row carries its reason, so the brief can say why without the (since cleared) killswitch.
    const ctx = p.snapshot.context as { reason?: unknown; by?: unknown };
    const why = machine === 'engineState' && t.to === 'killed' ? { reason: ctx.reason ?? null, by: ctx.by ?? null } : {};
    rows.push([at, p.ref.id, `${machine}.${t.to}`, taskId, JSON.stringify({ from: t.from, event: t.event, ...why })]);
  }
  for (const n of p.notes) rows.push([at, p.ref.id, n.kind, taskId, JSON.stringify(n.payload ?? {})]);
  return rows;
}

/**
 * One macrostep's write: every pending actor's snapshot row, its task or engine_state row and its ledger
 * rows, in one transaction. An actor's context is written only when it changed since its last commit.
 */
function createCommit(db: Db, writtenContext: WeakMap<AnyActorRef, unknown>, nextSeq: () => number) {
  const w = prepareWrites(db);
  return db.transaction((items: Pending[], at: number) => {
    const changes: CommittedChange[] = [];
    const snapshots: unknown[][] = [];
    const events: unknown[][] = [];
    const taskRows: unknown[][] = [];
    const taskSnapshots = new Map<string, unknown[]>();
    const contexts: Array<[AnyActorRef, unknown]> = [];
    for (const p of items) {
      const { ref, snapshot } = p;
      const machine = machineIdOf(ref);
      const status = statusOf(snapshot.value);
      const contextChanged = writtenContext.get(ref) !== snapshot.context;
      // An unchanged context is not written, so xstate need not walk it either.
      const { context, ...rest } = persistedSnapshotOf(ref, { ...snapshot, context: contextChanged ? snapshot.context : UNCHANGED, children: ownedChildren(snapshot) }) as { context?: unknown };
      if (contextChanged) contexts.push([ref, snapshot.context]);
      const snap = [ref.id, machine, snapshot.status, JSON.stringify(snapshot.value), JSON.stringify(rest), contextChanged ? JSON.stringify(context ?? null) : null, nextSeq(), at];
      const taskId = machine === 'task' ? ref.id.slice('task:'.length) : null;
      if (taskId) {
        const [, , snapStatus, value, persisted, contextJson, seq] = snap;
        taskRows.push([...taskRow(taskId, status, snapshot.context, at), snapStatus, value, seq, persisted, contextJson]);
        taskSnapshots.set(taskId, snap);
      } else snapshots.push(snap);
      if (machine === 'engineState') w.writeEngineState.run(...engineStateRow(status, snapshot.context));
      events.push(...ledgerRows(p, machine, taskId, at));
      changes.push({ actor: ref.id, machine, status, value: snapshot.value, context: snapshot.context, at });
    }
    for (const r of w.updateTasks(taskRows)) taskSnapshots.delete(r.id as string);
    // A task actor without a task row (none in the engine; tests may spawn one): its snapshot goes where other actors' do.
    w.upsertSnapshots([...snapshots, ...taskSnapshots.values()]);
    w.insertEvents(events);
    return { changes, contexts };
  });
}

/** The inspection events that carry a persisted actor's new snapshot, with the notes its effect left. */
function snapshotEvent(ev: InspectionEvent): { snapshot: Pending['snapshot']; eventType: string; notes: Pending['notes'] } | undefined {
  if (ev.type !== '@xstate.microstep' && ev.type !== '@xstate.snapshot') return undefined;
  const snapshot = (ev as unknown as { snapshot: Pending['snapshot'] }).snapshot;
  if (!snapshot || snapshot.status === 'stopped') return undefined; // never overwrite good state with 'stopped'
  const event = (ev as { event: { type: string; output?: { ledger?: unknown }; ledger?: unknown; error?: { ledger?: unknown } } }).event;
  // An effect that failed after spending carries its notes on the error (SpentThenFailedError).
  const notes = ev.type === '@xstate.snapshot' ? (event.output?.ledger ?? event.ledger ?? event.error?.ledger) : undefined;
  return { snapshot, eventType: event.type, notes: Array.isArray(notes) ? (notes as Pending['notes']) : [] };
}

/**
 * Contract 3.1: every transition of every engine actor is written in one SQLite transaction
 * per macrostep — the actor's snapshot, the task row's status and last_progress_at, and a
 * ledger row per state change. Writes are grouped on a microtask: every transition one event
 * caused (a kill reaching 1,000 tasks) is one transaction and one fsync.
 */
export function createPersister(options: PersisterOptions) {
  const { db, clock } = options;
  let root: AnyActorRef | undefined;
  let paused = false;
  let scheduled = false;
  let seq = maxSnapshotSeq(db);
  const pending = new Map<string, Pending>();
  const lastStatus = new Map<string, string>();
  // The context object each actor's row holds. xstate keeps the same object until an assign runs, so
  // an unchanged one is not serialised or written again. Keyed by the ref: a re-spawned actor starts afresh.
  const writtenContext = new WeakMap<AnyActorRef, unknown>();
  const commit = createCommit(db, writtenContext, () => ++seq);

  function track(ref: AnyActorRef, snapshot: Pending['snapshot'], eventType: string): Pending {
    let p = pending.get(ref.id);
    if (!p) pending.set(ref.id, (p = { ref, snapshot, transitions: [], notes: [] }));
    p.snapshot = snapshot;
    const to = statusOf(snapshot.value);
    const from = lastStatus.get(ref.id) ?? 'new';
    if (to !== from) {
      p.transitions.push({ from, to, event: eventType });
      lastStatus.set(ref.id, to);
    }
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
    return p;
  }

  function inspect(ev: InspectionEvent): void {
    if (paused || !isRootOwned(ev.actorRef as AnyActorRef, root)) return;
    const seen = snapshotEvent(ev);
    // Microsteps carry the intermediate states (a reap passing through `reaped`), so the ledger sees them.
    if (seen) track(ev.actorRef as AnyActorRef, seen.snapshot, seen.eventType).notes.push(...seen.notes);
  }

  function flush(): void {
    scheduled = false;
    if (!pending.size || paused) return;
    const items = [...pending.values()];
    pending.clear();
    let changes: CommittedChange[];
    try {
      const done = commit.immediate(items, clock.now());
      changes = done.changes;
      // Only once committed: a rolled-back write must not make the next one skip its context.
      for (const [ref, context] of done.contexts) writtenContext.set(ref, context);
    } catch (error) {
      paused = true; // nothing more may be acknowledged once a write is lost
      options.onError?.(error);
      return;
    }
    options.onCommit?.(changes);
  }

  return {
    inspect,
    flush,
    /** Call right after createActor and before start(), so the first transitions are caught. */
    setRoot(ref: AnyActorRef) {
      root = ref;
    },
    /** Seeds the last known status of restored actors, so a restore is not logged as a transition. */
    primeStatus(actor: string, status: string) {
      lastStatus.set(actor, status);
    },
    /** Before a graceful stop: flush, then ignore the 'stopped' snapshots that follow. */
    pause() {
      flush();
      paused = true;
    },
    get paused() {
      return paused;
    },
  };
}
