import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { Clock } from '../clock.js';
import { batchInsert, batchUpdate } from '../store/batch.js';
import type { Db } from '../store/db.js';
import { ledgerWorthy, statusOf, type StateValue } from './status.js';

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
  let seq = (db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM actor_snapshot').get() as { s: number }).s;
  const pending = new Map<string, Pending>();
  const lastStatus = new Map<string, string>();
  // The context object each actor's row holds. xstate keeps the same object until an assign runs, so
  // an unchanged one is not serialised or written again. Keyed by the ref: a re-spawned actor starts afresh.
  const writtenContext = new WeakMap<AnyActorRef, unknown>();

  const upsertSnapshots = batchInsert(
    db,
    'INSERT INTO actor_snapshot (actor, machine, status, value, snapshot, context, seq, updated_at)',
    8,
    // A NULL context means "unchanged since the last write": the stored one stays.
    `ON CONFLICT(actor) DO UPDATE SET machine=excluded.machine, status=excluded.status, value=excluded.value,
       snapshot=excluded.snapshot, context=COALESCE(excluded.context, actor_snapshot.context), seq=excluded.seq,
       updated_at=excluded.updated_at`,
  );
  // The only statement that changes a task's status: it always stamps last_progress_at.
  const updateTasks = batchUpdate(
    db,
    'tasks',
    'id',
    12,
    `status=v.column2, last_progress_at=v.column3, updated_at=v.column3, plan=v.column4, attempt=v.column5, branch=v.column6,
       worktree=v.column7, host=v.column8, pr=v.column9, cost_usd=v.column10, reason=v.column11,
       last_deferred_at=COALESCE(v.column12, tasks.last_deferred_at)`,
  );
  const insertEvents = batchInsert(db, 'INSERT INTO event (at, actor, kind, task, payload)', 5);
  const writeEngineState = db.prepare('UPDATE engine_state SET killed=?, hard=?, reason=?, by=?, at=? WHERE id=1');

  /** The root and the machines it spawned; effect actors live inside their machine's snapshot. */
  function isPersisted(ref: AnyActorRef): boolean {
    if (!root) return false;
    if (ref === root) return true;
    const parent = (ref as unknown as { _parent?: AnyActorRef })._parent;
    const logic = (ref as unknown as { logic: { root?: unknown } }).logic;
    return parent === root && logic.root !== undefined;
  }

  function ownedChildren(snapshot: Pending['snapshot']): Record<string, AnyActorRef> {
    const children = (snapshot as unknown as { children?: Record<string, AnyActorRef> }).children ?? {};
    const owned: Record<string, AnyActorRef> = {};
    for (const [id, child] of Object.entries(children)) {
      if ((child as unknown as { logic: { root?: unknown } }).logic.root === undefined) owned[id] = child;
    }
    return owned;
  }

  function machineOf(ref: AnyActorRef): string {
    return (ref as unknown as { logic: { id?: string } }).logic.id ?? 'actor';
  }

  function track(ref: AnyActorRef, snapshot: Pending['snapshot'], eventType: string, record: boolean) {
    const id = ref.id;
    let p = pending.get(id);
    if (!p) {
      p = { ref, snapshot, transitions: [], notes: [] };
      pending.set(id, p);
    }
    p.snapshot = snapshot;
    if (record) {
      const to = statusOf(snapshot.value);
      const from = lastStatus.get(id) ?? 'new';
      if (to !== from) {
        p.transitions.push({ from, to, event: eventType });
        lastStatus.set(id, to);
      }
    }
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  }

  function inspect(ev: InspectionEvent): void {
    if (paused) return;
    if (ev.type !== '@xstate.microstep' && ev.type !== '@xstate.snapshot') return;
    const ref = ev.actorRef as AnyActorRef;
    if (!isPersisted(ref)) return;
    const snapshot = (ev as unknown as { snapshot: Pending['snapshot'] }).snapshot;
    if (!snapshot || snapshot.status === 'stopped') return; // never overwrite good state with 'stopped'
    const event = (ev as { event: { type: string; output?: { ledger?: unknown }; ledger?: unknown; error?: { ledger?: unknown } } }).event;
    // Microsteps carry the intermediate states (a reap passing through `reaped`), so the ledger sees them.
    track(ref, snapshot, event.type, true);
    if (ev.type === '@xstate.snapshot') {
      // An effect that failed after spending carries its notes on the error (SpentThenFailedError).
      const notes = (event.output?.ledger ?? event.ledger ?? event.error?.ledger) as Pending['notes'] | undefined;
      if (Array.isArray(notes) && notes.length) pending.get(ref.id)!.notes.push(...notes);
    }
  }

  const commit = db.transaction((items: Pending[], at: number) => {
    const changes: CommittedChange[] = [];
    const snapshots: unknown[][] = [];
    const events: unknown[][] = [];
    const taskRows: unknown[][] = [];
    const contexts: Array<[AnyActorRef, unknown]> = [];
    for (const p of items) {
      const { ref, snapshot } = p;
      const machine = machineOf(ref);
      const status = statusOf(snapshot.value);
      const logic = (ref as unknown as { logic: { getPersistedSnapshot(s: unknown): unknown } }).logic;
      // Child machines persist themselves (own rows); effect actors stay inside their machine's snapshot.
      const contextChanged = writtenContext.get(ref) !== snapshot.context;
      // An unchanged context is not written, so xstate need not walk it either.
      const { context, ...rest } = logic.getPersistedSnapshot({ ...snapshot, context: contextChanged ? snapshot.context : UNCHANGED, children: ownedChildren(snapshot) }) as { context?: unknown };
      if (contextChanged) contexts.push([ref, snapshot.context]);
      snapshots.push([ref.id, machine, snapshot.status, JSON.stringify(snapshot.value), JSON.stringify(rest), contextChanged ? JSON.stringify(context ?? null) : null, ++seq, at]);
      const taskId = machine === 'task' ? ref.id.slice('task:'.length) : null;
      if (taskId) {
        const c = snapshot.context as Record<string, any>;
        taskRows.push([
          taskId, status, at, c.plan ? JSON.stringify(c.plan) : null, c.attempt ?? 0, c.branch ?? null, c.worktree ?? null, c.host ?? null,
          c.pr ?? null, c.costUsd ?? 0, c.reason ?? null, status === 'deferred' ? c.deferredAt ?? at : null,
        ]);
      }
      if (machine === 'engineState') {
        const c = snapshot.context as Record<string, any>;
        const killed = status === 'killed';
        writeEngineState.run(killed ? 1 : 0, c.hard ? 1 : 0, killed ? c.reason : null, c.by ?? null, killed ? c.at : null);
      }
      for (const t of p.transitions) {
        if (!ledgerWorthy(machine, t.from, t.to)) continue;
        // A kill's row carries its reason, so the brief can say why without the (since cleared) killswitch.
        const why = machine === 'engineState' && t.to === 'killed' ? { reason: (snapshot.context as Record<string, any>).reason ?? null, by: (snapshot.context as Record<string, any>).by ?? null } : {};
        events.push([at, ref.id, `${machine}.${t.to}`, taskId, JSON.stringify({ from: t.from, event: t.event, ...why })]);
      }
      for (const n of p.notes) events.push([at, ref.id, n.kind, taskId, JSON.stringify(n.payload ?? {})]);
      changes.push({ actor: ref.id, machine, status, value: snapshot.value, context: snapshot.context, at });
    }
    upsertSnapshots(snapshots);
    updateTasks(taskRows);
    insertEvents(events);
    return { changes, contexts };
  });

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

export type Persister = ReturnType<typeof createPersister>;
