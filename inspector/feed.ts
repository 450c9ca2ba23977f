import type { Adapter } from '../src/config/schema.js';
import type { EngineHandle } from '../src/runtime/engine.js';
import type { Db } from '../src/store/db.js';
import { lastEventId as lastEventIdOf, listEvents } from '../src/store/ledger.js';
import { listActors, toEntry, type ActorState, type JournalEntry } from './journal.js';
import type { InspectedActor, InspectionRelay, InspectionView } from './relay.js';
import { buildSnapshot, toTaskView, type Snapshot, type TaskView } from './snapshot.js';
import { getTask, type TaskRow } from '../src/store/tasks.js';
import { maxSnapshotSeq } from '../src/store/snapshots.js';
import type { CommittedChange } from '../src/store/persister.js';

type ActorSummary = Omit<ActorState, 'context'>;

/** What the page receives on its socket. */
export type FeedMessage =
  | { type: 'hello'; snapshot: Snapshot; ledger: JournalEntry[]; actors: ActorSummary[]; inspection: { enabled: boolean; sessions: InspectedActor[] } }
  /** The snapshot but its tasks, when that part changed: the page keeps its tasks (they come as `tasks`). */
  | { type: 'summary'; summary: Omit<Snapshot, 'tasks'> }
  /** The tasks whose view changed since the hello or their last `tasks` message, new tasks included. */
  | { type: 'tasks'; tasks: TaskView[] }
  | { type: 'ledger'; rows: JournalEntry[] }
  | { type: 'actors'; actors: ActorSummary[] }
  | { type: 'inspect'; event: InspectionView };

export interface FeedOptions {
  db: Db;
  adapter: Adapter;
  engine?: EngineHandle;
  relay?: InspectionRelay;
  /** Whether an inspection stream feeds the relay (`--inspect`). */
  inspecting?: boolean;
  /** How often the database is looked at for changes made by other processes. */
  pollMs?: number;
}

const HELLO_LEDGER = 300;

/** Where the feed has read up to: the last ledger row, the last actor snapshot seq, the last snapshot (without its tasks) and each task's view sent. */
interface Cursors {
  eventId: number;
  seq: number;
  snapshotKey: string;
  tasks: Map<string, string>;
  /** Tasks a commit moved or a new ledger row named since the last look: the quick look reads only these. */
  dirty: Set<string>;
  /** When the whole snapshot was last built, and whether anything moved since. */
  wholeAt: number;
  moved: boolean;
}

// generatedAt differs on every build: leave it out so only a real change counts. Tasks are compared one by one.
function summaryKey(s: Omit<Snapshot, 'tasks'>): string {
  return JSON.stringify({ ...s, generatedAt: 0 });
}

/** The views that differ from those sent, the cursor moved to them. */
function changedTasks(cursors: Cursors, views: TaskView[]): TaskView[] {
  return views.filter((v) => {
    const key = JSON.stringify(v);
    if (cursors.tasks.get(v.id) === key) return false;
    cursors.tasks.set(v.id, key);
    return true;
  });
}

/** Nobody watches: move the cursors so a page joining later gets its hello, not a backlog. */
function skipToNow(db: Db, cursors: Cursors): void {
  cursors.eventId = lastEventIdOf(db);
  cursors.seq = maxSnapshotSeq(db);
  cursors.snapshotKey = '';
  cursors.tasks.clear();
  cursors.dirty.clear();
  cursors.wholeAt = 0;
}

/** quick: a commit in this process; poll: the timer; whole: an action, a new engine (everything, now). */
type Look = 'quick' | 'poll' | 'whole';
// The rest of the snapshot (spend, gates, hosts… read from the whole ledger: tens of ms at 100,000 rows) is
// rebuilt at most once a second while things move, and every 5 s anyway (a day's spend rolling over).
const WHOLE_MIN_MS = 1000;
const WHOLE_MAX_MS = 5000;

/**
 * Emits what changed since the cursors (new ledger rows, moved actors, changed tasks) and advances them.
 * Tasks are read one by one: those the commits moved, those new ledger rows name. The whole snapshot
 * (every task, and the rest) only as `look` and the clock allow.
 */
function emitChanges(db: Db, adapter: Adapter, engine: EngineHandle | undefined, cursors: Cursors, emit: (m: FeedMessage) => void, look: Look): void {
  const rows = listEvents(db, { afterId: cursors.eventId });
  if (rows.length) {
    cursors.eventId = rows[rows.length - 1].id;
    for (const r of rows) if (r.task) cursors.dirty.add(r.task);
    emit({ type: 'ledger', rows: rows.map((r) => toEntry(r)) });
  }
  const moved = listActors(db).filter((a) => a.seq > cursors.seq);
  if (moved.length) {
    cursors.seq = Math.max(...moved.map((a) => a.seq));
    emit({ type: 'actors', actors: moved });
  }
  if (rows.length || moved.length) cursors.moved = true;
  const now = Date.now();
  const since = now - cursors.wholeAt;
  const whole = look === 'whole' || (look === 'poll' && ((cursors.moved && since >= WHOLE_MIN_MS) || since >= WHOLE_MAX_MS));
  const dirty = [...cursors.dirty];
  cursors.dirty.clear();
  if (!whole) {
    const found = dirty.map((id) => getTask(db, id)).filter((t): t is TaskRow => t !== undefined);
    const tasks = changedTasks(cursors, found.map((t) => toTaskView(adapter, t)));
    if (tasks.length) emit({ type: 'tasks', tasks });
    return;
  }
  cursors.wholeAt = now;
  cursors.moved = false;
  const { tasks: all, ...summary } = buildSnapshot(db, adapter, engine, now);
  const tasks = changedTasks(cursors, all);
  if (tasks.length) emit({ type: 'tasks', tasks });
  const key = summaryKey(summary);
  if (key !== cursors.snapshotKey) {
    cursors.snapshotKey = key;
    emit({ type: 'summary', summary });
  }
}

/**
 * Turns changes into messages: new ledger rows, actors whose persisted snapshot moved, the tasks that
 * changed, and the snapshot whenever the rest of it differs. A commit in this process's engine triggers a
 * look at once (ledger, actors, tasks: cheap); the poll looks at everything, which catches what other
 * processes write (a CLI kill, a daemon seen from `oxi dashboard`). With 100,000 ledger rows the whole
 * snapshot costs tens of milliseconds, too much to build on every commit of a busy engine.
 */
export function createFeed(options: FeedOptions) {
  const { db, adapter, relay } = options;
  let engine = options.engine;
  const listeners = new Set<(m: FeedMessage) => void>();
  const cursors: Cursors = { eventId: lastEventIdOf(db), seq: maxSnapshotSeq(db), snapshotKey: '', tasks: new Map(), dirty: new Set(), wholeAt: 0, moved: false };
  let scheduled: Look | undefined;
  let closed = false;

  const emit = (m: FeedMessage) => {
    for (const l of listeners) l(m);
  };

  function refresh(look: Look): void {
    scheduled = undefined;
    if (closed) return;
    try {
      if (!listeners.size) return skipToNow(db, cursors);
      emitChanges(db, adapter, engine, cursors, emit, look);
    } catch {
      // The database is busy or closing: the next poll tries again.
    }
  }

  const RANK: Record<Look, number> = { quick: 0, poll: 1, whole: 2 };
  /** One look on the next turn, the widest asked for. */
  function schedule(look: Look): void {
    if (closed) return;
    const first = scheduled === undefined;
    if (first || RANK[look] > RANK[scheduled!]) scheduled = look;
    if (first) setImmediate(() => refresh(scheduled ?? look));
  }

  const onCommit = (changes: CommittedChange[]) => {
    for (const c of changes) if (c.machine === 'task') cursors.dirty.add(c.actor.slice('task:'.length));
    schedule('quick');
  };
  let offCommit = engine?.onCommit(onCommit);
  const offRelay = relay?.onView((event) => emit({ type: 'inspect', event }));
  const timer = setInterval(() => schedule('poll'), options.pollMs ?? 250);
  timer.unref();

  return {
    /** Everything a page needs when it (re)connects: it never depends on messages it missed. */
    hello(): FeedMessage {
      const now = Date.now();
      const snapshot = buildSnapshot(db, adapter, engine, now);
      // Tasks no page was sent yet start from this snapshot, so the first change is not all 1,000 tasks again.
      // A task already sent keeps its cursor: the pages that joined earlier still get its next change.
      for (const t of snapshot.tasks) if (!cursors.tasks.has(t.id)) cursors.tasks.set(t.id, JSON.stringify(t));
      // The only page: this hello is its whole look, so the next poll does not rebuild the snapshot while the page draws.
      if (listeners.size <= 1) {
        const { tasks: _tasks, ...summary } = snapshot;
        Object.assign(cursors, { snapshotKey: summaryKey(summary), wholeAt: now, moved: false });
      }
      return {
        type: 'hello',
        snapshot,
        ledger: listEvents(db, { limit: HELLO_LEDGER }).map((r) => toEntry(r)),
        actors: listActors(db),
        inspection: { enabled: Boolean(options.inspecting), sessions: relay?.sessions() ?? [] },
      };
    },
    subscribe(listener: (m: FeedMessage) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Everything, now: an action's effect shows at once. */
    refresh: () => refresh('whole'),
    /** The engine started after the server (so its first inspection events had somewhere to go). */
    attach(next: EngineHandle): void {
      offCommit?.();
      engine = next;
      offCommit = next.onCommit(onCommit);
      schedule('whole');
    },
    close(): void {
      closed = true;
      clearInterval(timer);
      offCommit?.();
      offRelay?.();
      listeners.clear();
    },
  };
}

export type Feed = ReturnType<typeof createFeed>;
