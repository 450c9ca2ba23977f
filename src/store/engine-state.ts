import type { Db } from './db.js';

export interface KillswitchRow {
  killed: boolean;
  hard: boolean;
  reason: string | null;
  by: string | null;
  at: number | null;
}

export function readKillswitch(db: Db): KillswitchRow {
  const row = db.prepare('SELECT killed, hard, reason, by, at FROM engine_state WHERE id=1').get() as
    | { killed: number; hard: number; reason: string | null; by: string | null; at: number | null }
    | undefined;
  if (!row) return { killed: false, hard: false, reason: null, by: null, at: null };
  return { killed: !!row.killed, hard: !!row.hard, reason: row.reason, by: row.by, at: row.at };
}

export function writeKillswitch(db: Db, k: KillswitchRow): void {
  db.prepare('UPDATE engine_state SET killed=?, hard=?, reason=?, by=?, at=? WHERE id=1').run(k.killed ? 1 : 0, k.hard ? 1 : 0, k.reason, k.by, k.at);
}

/** main's sha as the engine last saw it move by a fast-forward (its own merge or a human's): undefined before the first look. */
export function readMainSha(db: Db, repo?: string): string | undefined {
  if (repo !== undefined) return (db.prepare('SELECT sha FROM repo_main WHERE repo=?').get(repo) as { sha: string } | undefined)?.sha;
  const row = db.prepare('SELECT main_sha FROM engine_state WHERE id=1').get() as { main_sha: string | null } | undefined;
  return row?.main_sha ?? undefined;
}

/** `repo` given (several repositories): that repository's main; else the single repository's. */
export function writeMainSha(db: Db, sha: string, repo?: string): void {
  if (repo !== undefined) db.prepare('INSERT INTO repo_main (repo, sha) VALUES (?, ?) ON CONFLICT(repo) DO UPDATE SET sha=excluded.sha').run(repo, sha);
  else db.prepare('UPDATE engine_state SET main_sha=? WHERE id=1').run(sha);
}
