/**
 * The `promote_group` table: each promote run in flight, with the process running it and the command's process
 * group. Its row is written with the run's `promote.started` ledger row and removed with its `promote.run` row (one
 * transaction each), so at any instant either the run is ended in the ledger or its row says who to ask and what to end.
 */
import { immediate, type Db } from './db.js';
import { appendEvent, type LedgerEntry } from './ledger.js';

export interface PromoteGroupRow {
  started_id: number;
  name: string;
  actor: string;
  trigger: string;
  merge_id: number;
  owner_pid: number;
  owner_start: string | null;
  boot_id: string | null;
  pid: number | null;
  leader_start: string | null;
  at: number;
}

export interface PromoteOwner {
  pid: number;
  start: string | null;
  bootId: string | null;
}

/** Appends the run's `promote.started` row and records the run as in flight; returns the started row's id. */
export function startPromoteRun(db: Db, started: LedgerEntry & { payload: { name: string; trigger: string; mergeId: number } }, owner: PromoteOwner): number {
  return immediate(db, () => {
    const id = appendEvent(db, started);
    db.prepare(
      'INSERT INTO promote_group (started_id, name, actor, trigger, merge_id, owner_pid, owner_start, boot_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(id, started.payload.name, started.actor, started.payload.trigger, started.payload.mergeId, owner.pid, owner.start, owner.bootId, started.at);
    return id;
  });
}

/** The command started: its process group (the leader's pid) and the leader's start time. */
export function setPromoteGroup(db: Db, startedId: number, pid: number, leaderStart: string | null): void {
  db.prepare('UPDATE promote_group SET pid = ?, leader_start = ? WHERE started_id = ?').run(pid, leaderStart, startedId);
}

/** The run ended (its group is gone): its `promote.run` row and the end of its record, together. Returns the row's id. */
export function finishPromoteRun(db: Db, startedId: number, run: LedgerEntry): number {
  return immediate(db, () => {
    db.prepare('DELETE FROM promote_group WHERE started_id = ?').run(startedId);
    return appendEvent(db, run);
  });
}

/**
 * A run whose runner died: its `promote.run` row (written by whoever removes its record first, so exactly once).
 * Returns the row's id, or undefined when another process recorded it already.
 */
export function interruptPromoteRun(db: Db, startedId: number, run: LedgerEntry): number | undefined {
  return immediate(db, () => {
    const gone = db.prepare('DELETE FROM promote_group WHERE started_id = ?').run(startedId);
    return gone.changes ? appendEvent(db, run) : undefined;
  });
}

/** Every run recorded as in flight, oldest first. */
export function promoteGroups(db: Db, name?: string): PromoteGroupRow[] {
  return (name === undefined
    ? db.prepare('SELECT * FROM promote_group ORDER BY started_id').all()
    : db.prepare('SELECT * FROM promote_group WHERE name = ? ORDER BY started_id').all(name)) as PromoteGroupRow[];
}
