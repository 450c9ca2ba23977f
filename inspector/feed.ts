import type { Adapter } from '../src/config/schema.js';
import type { EngineHandle } from '../src/runtime/engine.js';
import type { Db } from '../src/store/db.js';
import { lastEventId as lastEventIdOf, listEvents } from '../src/store/ledger.js';
import { listActors, toEntry, type ActorState, type JournalEntry } from './journal.js';
import type { InspectedActor, InspectionRelay, InspectionView } from './relay.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';
import { maxSnapshotSeq } from '../src/store/snapshots.js';

type ActorSummary = Omit<ActorState, 'context'>;

/** What the page receives on its socket. */
export type FeedMessage =
  | { type: 'hello'; snapshot: Snapshot; ledger: JournalEntry[]; actors: ActorSummary[]; inspection: { enabled: boolean; sessions: InspectedActor[] } }
  | { type: 'snapshot'; snapshot: Snapshot }
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

/** Where the feed has read up to: the last ledger row, the last actor snapshot seq, the last snapshot sent. */
interface Cursors {
  eventId: number;
  seq: number;
  snapshotKey: string;
}

// generatedAt differs on every build: leave it out so only a real change counts.
function snapshotKey(s: Snapshot): string {
  return JSON.stringify({ ...s, generatedAt: 0 });
}

/** Nobody watches: move the cursors so a page joining later gets its hello, not a backlog. */
function skipToNow(db: Db, cursors: Cursors): void {
  cursors.eventId = lastEventIdOf(db);
  cursors.seq = maxSnapshotSeq(db);
  cursors.snapshotKey = '';
}

/** Emits what changed since the cursors (new ledger rows, moved actors, a different snapshot) and advances them. */
function emitChanges(db: Db, adapter: Adapter, engine: EngineHandle | undefined, cursors: Cursors, emit: (m: FeedMessage) => void): void {
  const rows = listEvents(db, { afterId: cursors.eventId });
  if (rows.length) {
    cursors.eventId = rows[rows.length - 1].id;
    emit({ type: 'ledger', rows: rows.map((r) => toEntry(r)) });
  }
  const moved = listActors(db).filter((a) => a.seq > cursors.seq);
  if (moved.length) {
    cursors.seq = Math.max(...moved.map((a) => a.seq));
    emit({ type: 'actors', actors: moved });
  }
  const snapshot = buildSnapshot(db, adapter, engine);
  const key = snapshotKey(snapshot);
  if (key !== cursors.snapshotKey) {
    cursors.snapshotKey = key;
    emit({ type: 'snapshot', snapshot });
  }
}

/**
 * Turns changes into messages: new ledger rows, actors whose persisted snapshot moved, and the
 * snapshot whenever it differs. A commit in this process's engine triggers a look at once;
 * a poll catches what other processes write (a CLI kill, a daemon seen from `oxi dashboard`).
 */
export function createFeed(options: FeedOptions) {
  const { db, adapter, relay } = options;
  let engine = options.engine;
  const listeners = new Set<(m: FeedMessage) => void>();
  const cursors: Cursors = { eventId: lastEventIdOf(db), seq: maxSnapshotSeq(db), snapshotKey: '' };
  let scheduled = false;
  let closed = false;

  const emit = (m: FeedMessage) => {
    for (const l of listeners) l(m);
  };

  function refresh(): void {
    scheduled = false;
    if (closed) return;
    try {
      if (!listeners.size) return skipToNow(db, cursors);
      emitChanges(db, adapter, engine, cursors, emit);
    } catch {
      // The database is busy or closing: the next poll tries again.
    }
  }

  function schedule(): void {
    if (scheduled || closed) return;
    scheduled = true;
    setImmediate(refresh);
  }

  let offCommit = engine?.onCommit(() => schedule());
  const offRelay = relay?.onView((event) => emit({ type: 'inspect', event }));
  const timer = setInterval(schedule, options.pollMs ?? 250);
  timer.unref();

  return {
    /** Everything a page needs when it (re)connects: it never depends on messages it missed. */
    hello(): FeedMessage {
      const snapshot = buildSnapshot(db, adapter, engine);
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
    refresh,
    /** The engine started after the server (so its first inspection events had somewhere to go). */
    attach(next: EngineHandle): void {
      offCommit?.();
      engine = next;
      offCommit = next.onCommit(() => schedule());
      schedule();
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
