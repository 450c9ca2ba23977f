import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirPrivate, writePrivate } from '../fs-private.js';
import type { Db } from '../store/db.js';
import { readKillswitch, writeKillswitch, type KillswitchRow } from '../store/engine-state.js';

export const KILL_FILE = 'KILLSWITCH';

export function killFilePath(stateDir: string): string {
  return join(stateDir, KILL_FILE);
}

/**
 * The killswitch lives in two places (DB row + file) so it survives restarts and works
 * with no daemon. Either one saying "killed" means killed: the safe side wins.
 */
export function readKillState(db: Db, stateDir: string): KillswitchRow {
  const row = readKillswitch(db);
  if (row.killed) return row;
  const file = killFilePath(stateDir);
  if (!existsSync(file)) return row;
  try {
    const k = JSON.parse(readFileSync(file, 'utf8')) as Partial<KillswitchRow>;
    return { killed: true, hard: !!k.hard, reason: k.reason ?? 'killswitch file present', by: k.by ?? null, at: k.at ?? null };
  } catch {
    return { killed: true, hard: false, reason: 'killswitch file present (unreadable)', by: null, at: null };
  }
}

export function writeKillFile(stateDir: string, state: { reason: string | null; by: string | null; at: number | null; hard: boolean } | null): void {
  const file = killFilePath(stateDir);
  if (!state) {
    rmSync(file, { force: true });
    return;
  }
  mkdirPrivate(stateDir);
  writePrivate(file, JSON.stringify({ killed: true, ...state }, null, 2) + '\n');
}

/** What `oxi kill` does without (and before telling) a daemon. */
export function setKill(db: Db, stateDir: string, k: { reason: string; by: string; hard: boolean; at: number }): void {
  writeKillswitch(db, { killed: true, hard: k.hard, reason: k.reason, by: k.by, at: k.at });
  writeKillFile(stateDir, { reason: k.reason, by: k.by, at: k.at, hard: k.hard });
}

export function clearKill(db: Db, stateDir: string, by: string): void {
  writeKillswitch(db, { killed: false, hard: false, reason: null, by, at: null });
  writeKillFile(stateDir, null);
}
