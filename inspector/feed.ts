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

/**
 * Turns changes into messages: new ledger rows, actors whose persisted snapshot moved, and the
 * snapshot whenever it differs. A commit in this process's engine triggers a look at once;
 * a poll catches what other processes write (a CLI kill, a daemon seen from `oxi dashboard`).
 */
export function createFeed(options: FeedOptions) {
  const { db, adapter, relay } = options;
  let engine = options.engine;
  const listeners = new Set<(m: FeedMessage) => void>();
  let lastEventId = lastEventIdOf(db);
  let lastSeq = maxSnapshotSeq(db);
  let lastSnapshotKey = '';
  let scheduled = false;
  let closed = false;

  const emit = (m: FeedMessage) => {
    for (const l of listeners) l(m);
  };

  function snapshotKey(s: Snapshot): string {
    return JSON.stringify({ ...s, generatedAt: 0 });
  }

  function refresh(): void {
    scheduled = false;
    if (closed) return;
    try {
      if (!listeners.size) {
        // Nobody watches: move the cursors so a page joining later gets its hello, not a backlog.
        lastEventId = lastEventIdOf(db);
        lastSeq = maxSnapshotSeq(db);
        lastSnapshotKey = '';
        return;
      }
      const rows = listEvents(db, { afterId: lastEventId });
      if (rows.length) {
        lastEventId = rows[rows.length - 1].id;
        emit({ type: 'ledger', rows: rows.map((r) => toEntry(r)) });
      }
      const moved = listActors(db).filter((a) => a.seq > lastSeq);
      if (moved.length) {
        lastSeq = Math.max(...moved.map((a) => a.seq));
        emit({ type: 'actors', actors: moved });
      }
      const snapshot = buildSnapshot(db, adapter, engine);
      const key = snapshotKey(snapshot);
      if (key !== lastSnapshotKey) {
        lastSnapshotKey = key;
        emit({ type: 'snapshot', snapshot });
      }
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
