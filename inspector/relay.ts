import { WebSocket } from 'ws';
import { sanitize } from './sanitize.js';

/** One inspection event as the page uses it: the @statelyai/inspect wire event, minus the bulky definition. */
export type InspectionView =
  | { type: '@xstate.actor'; sessionId: string; parentId: string | null; name: string; machine: string | null; at: number }
  | { type: '@xstate.snapshot'; sessionId: string; value: unknown; status: string; event: string; at: number }
  | { type: '@xstate.event'; sessionId: string; sourceId: string | null; event: string; at: number };

export interface InspectedActor {
  sessionId: string;
  parentId: string | null;
  name: string;
  machine: string | null;
  value: unknown;
  status: string;
  lastEvent: string | null;
  events: number;
  updatedAt: number;
}

const MAX_SESSIONS = 2000;

/** xstate names an actor created without an id by its session (`x:0`): the root is the engine, others their machine. */
export function actorName(name: unknown, machine: string | null, parentId: unknown): string {
  const s = String(name);
  if (!/^x:\d+$/.test(s)) return s;
  return parentId ? (machine ?? s) : 'engine';
}

/** Reads one relayed @statelyai/inspect message; anything else is ignored. */
export function viewOf(raw: unknown): InspectionView | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const e = raw as Record<string, any>;
  const at = Number(e.createdAt) || Date.now();
  if (typeof e.sessionId !== 'string') return undefined;
  if (e.type === '@xstate.actor') {
    let machine: string | null = null;
    try {
      // Statecharts carry their states; promise and callback actors only a name.
      const definition = typeof e.definition === 'string' ? JSON.parse(e.definition) : null;
      machine = definition?.states ? (definition.id ?? null) : null;
    } catch {
      machine = null;
    }
    return { type: e.type, sessionId: e.sessionId, parentId: e.parentId ?? null, name: actorName(e.name ?? e.sessionId, machine, e.parentId), machine, at };
  }
  if (e.type === '@xstate.snapshot') {
    return { type: e.type, sessionId: e.sessionId, value: sanitize(e.snapshot?.value ?? null), status: String(e.snapshot?.status ?? 'active'), event: String(e.event?.type ?? ''), at };
  }
  if (e.type === '@xstate.event') {
    return { type: e.type, sessionId: e.sessionId, sourceId: e.sourceId ?? null, event: String(e.event?.type ?? ''), at };
  }
  return undefined;
}

/**
 * The Stately inspector relay, served by our own server (loopback, origin-checked, token to
 * publish) instead of @statelyai/inspect's open one. Like theirs it rebroadcasts each message
 * to the other clients and replays the last 200 to a newcomer; it also keeps what every actor
 * session is doing, so the dashboard can show the stream to a page that joins late.
 */
export function createInspectionRelay(maxBuffer = 200) {
  const buffer: string[] = [];
  const clients = new Set<WebSocket>();
  const sessions = new Map<string, InspectedActor>();
  const listeners = new Set<(view: InspectionView) => void>();

  function record(view: InspectionView): void {
    let s = sessions.get(view.sessionId);
    if (!s) {
      s = { sessionId: view.sessionId, parentId: null, name: view.sessionId, machine: null, value: null, status: 'active', lastEvent: null, events: 0, updatedAt: view.at };
      sessions.set(view.sessionId, s);
      if (sessions.size > MAX_SESSIONS) {
        // Forget finished actors first (oldest first: Map keeps insertion order).
        for (const [id, old] of sessions) {
          if (sessions.size <= MAX_SESSIONS) break;
          if (old.status !== 'active') sessions.delete(id);
        }
      }
    }
    s.updatedAt = view.at;
    if (view.type === '@xstate.actor') Object.assign(s, { parentId: view.parentId, name: view.name, machine: view.machine });
    else if (view.type === '@xstate.snapshot') Object.assign(s, { value: view.value, status: view.status, lastEvent: view.event });
    else s.events++;
  }

  function publish(from: WebSocket | null, message: string): void {
    buffer.push(message);
    if (buffer.length > maxBuffer) buffer.shift();
    for (const c of clients) if (c !== from && c.readyState === WebSocket.OPEN) c.send(message);
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    const view = viewOf(parsed);
    if (!view) return;
    record(view);
    for (const l of listeners) l(view);
  }

  return {
    /** A relay client: publishers (the engine's inspector, with the token) send, everyone receives. */
    attach(ws: WebSocket, canPublish: boolean): void {
      clients.add(ws);
      for (const m of buffer) ws.send(m);
      ws.on('message', (data) => {
        if (canPublish) publish(ws, data.toString());
      });
      ws.on('close', () => clients.delete(ws));
    },
    publish: (message: string) => publish(null, message),
    onView(listener: (view: InspectionView) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    sessions(): InspectedActor[] {
      return [...sessions.values()];
    },
    close(): void {
      for (const c of clients) c.terminate();
      clients.clear();
    },
  };
}

export type InspectionRelay = ReturnType<typeof createInspectionRelay>;
