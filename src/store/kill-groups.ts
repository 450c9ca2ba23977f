/** The `kill_group` table: process groups the engine decided to terminate and has not yet seen go. */
import type { Db } from './db.js';

export interface KillGroupRow {
  host: string;
  pid: number;
  task: string | null;
  reason: string;
  at: number;
  tries: number;
  last_error: string | null;
}

export function pendingKillGroups(db: Db, host?: string): KillGroupRow[] {
  return host === undefined
    ? (db.prepare('SELECT * FROM kill_group ORDER BY at, host, pid').all() as KillGroupRow[])
    : (db.prepare('SELECT * FROM kill_group WHERE host = ? ORDER BY at, pid').all(host) as KillGroupRow[]);
}

/** The groups recorded for one task (the ones its next worker waits for). */
export function pendingKillGroupsOfTask(db: Db, task: string): KillGroupRow[] {
  return db.prepare('SELECT * FROM kill_group WHERE task = ? ORDER BY at, pid').all(task) as KillGroupRow[];
}

/** Records a group before it is terminated; a group already recorded keeps its row. */
export function recordKillGroup(db: Db, group: { host: string; pid: number; task: string | null; reason: string; at: number }): void {
  db.prepare('INSERT INTO kill_group (host, pid, task, reason, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(host, pid) DO NOTHING').run(
    group.host,
    group.pid,
    group.task,
    group.reason,
    group.at,
  );
}

export function clearKillGroup(db: Db, host: string, pid: number): void {
  db.prepare('DELETE FROM kill_group WHERE host = ? AND pid = ?').run(host, pid);
}

export function noteKillGroupFailure(db: Db, host: string, pid: number, message: string): void {
  db.prepare('UPDATE kill_group SET tries = tries + 1, last_error = ? WHERE host = ? AND pid = ?').run(message, host, pid);
}
