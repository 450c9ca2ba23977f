/**
 * Messages to a live agent (`oxi say`): queued here, delivered by the worker effect when the agent's turn
 * ends (its session is resumed with them). A listener row says a worker session is live and still takes
 * messages; taking the pending messages and closing the listener happen in one transaction with the queueing
 * check, so a message is either delivered or refused, never left behind by a session that just ended.
 */
import type { Db } from './db.js';
import { immediate } from './db.js';

export interface AgentMessage {
  id: number;
  task: string;
  body: string;
  by: string;
  at: number;
  delivered_at: number | null;
  session: string | null;
}

export interface Listener {
  task: string;
  host: string;
  pid: number;
  backend: string;
  at: number;
}

/** A worker session went live (a launch, an adoption, a resume): it takes messages until it closes. */
export function openListener(db: Db, l: Listener): void {
  db.prepare(
    `INSERT INTO agent_listener (task, host, pid, backend, at) VALUES (@task, @host, @pid, @backend, @at)
     ON CONFLICT(task) DO UPDATE SET host=@host, pid=@pid, backend=@backend, at=@at`,
  ).run(l);
}

export function getListener(db: Db, task: string): Listener | undefined {
  return db.prepare('SELECT * FROM agent_listener WHERE task=?').get(task) as Listener | undefined;
}

export function closeListener(db: Db, task: string): void {
  db.prepare('DELETE FROM agent_listener WHERE task=?').run(task);
}

/**
 * Queues a message if `accept(listener)` says the task's live session takes it (same transaction as the
 * check). Returns the message, or why not: no listener, or the reason `accept` gave.
 */
export function queueMessage(
  db: Db,
  m: { task: string; body: string; by: string; at: number },
  accept: (l: Listener) => string | undefined,
): { message: AgentMessage; listener: Listener } | { refused: string } {
  return immediate(db, () => {
    const listener = getListener(db, m.task);
    if (!listener) return { refused: 'no live agent' };
    const why = accept(listener);
    if (why) return { refused: why };
    const id = Number(db.prepare('INSERT INTO agent_message (task, body, by, at) VALUES (?, ?, ?, ?)').run(m.task, m.body, m.by, m.at).lastInsertRowid);
    db.prepare('INSERT INTO event (at, actor, kind, task, payload) VALUES (?, ?, ?, ?, ?)').run(m.at, m.by, 'say.queued', m.task, JSON.stringify({ task: m.task, message: id, body: m.body, pid: listener.pid, backend: listener.backend }));
    return { message: { id, ...m, delivered_at: null, session: null }, listener };
  });
}

export function pendingMessages(db: Db, task: string): AgentMessage[] {
  return db.prepare('SELECT * FROM agent_message WHERE task=? AND delivered_at IS NULL ORDER BY id').all(task) as AgentMessage[];
}

export function messagesOf(db: Db, task: string): AgentMessage[] {
  return db.prepare('SELECT * FROM agent_message WHERE task=? ORDER BY id').all(task) as AgentMessage[];
}

/**
 * The session ended its turn: the pending messages to deliver now, or none — and then the listener is
 * closed in the same transaction, so no message can be queued for a session that will not read it.
 */
export function takeOrClose(db: Db, task: string): AgentMessage[] {
  return immediate(db, () => {
    const pending = pendingMessages(db, task);
    if (pending.length === 0) closeListener(db, task);
    return pending;
  });
}

/** Recorded once the resumed session that carries them has started (ledger row `say.delivered`). */
export function markDelivered(db: Db, task: string, ids: readonly number[], session: string, at: number): void {
  if (ids.length === 0) return;
  immediate(db, () => {
    const mark = db.prepare('UPDATE agent_message SET delivered_at=?, session=? WHERE id=? AND delivered_at IS NULL');
    const marked = ids.filter((id) => mark.run(at, session, id).changes > 0);
    if (marked.length) db.prepare('INSERT INTO event (at, actor, kind, task, payload) VALUES (?, ?, ?, ?, ?)').run(at, `task:${task}`, 'say.delivered', task, JSON.stringify({ task, messages: marked, session }));
  });
}
