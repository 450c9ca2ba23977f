/** What oxi keeps on this machine's disk (workspaces, logs, the database): shown by `oxi status`. */
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Adapter } from '../config/schema.js';

/** Bytes under `path` (symbolic links not followed); stops counting after `limit` entries so a huge tree stays quick. */
export function bytesUnder(path: string, limit = 200_000): { bytes: number; complete: boolean } {
  let bytes = 0;
  let seen = 0;
  const stack = [path];
  while (stack.length) {
    const p = stack.pop()!;
    let info;
    try {
      info = lstatSync(p);
    } catch {
      continue;
    }
    if (++seen > limit) return { bytes, complete: false };
    bytes += info.size;
    if (info.isDirectory()) {
      try {
        for (const name of readdirSync(p)) stack.push(join(p, name));
      } catch {
        // unreadable: counted as its own size only
      }
    }
  }
  return { bytes, complete: true };
}

export interface DiskUse {
  worktrees: { path: string; bytes: number; workspaces: number; complete: boolean };
  logs: { path: string; bytes: number };
  db: { path: string; bytes: number };
}

export function diskUse(adapter: Adapter): DiskUse {
  const root = adapter.paths.worktreesRoot;
  // worktreesRoot/<name>-<sessionTag>/<taskId>: one directory per task workspace.
  const sessions = existsSync(root) ? readdirSync(root).map((d) => join(root, d)).filter((d) => lstatSync(d).isDirectory()) : [];
  const workspaces = sessions.reduce((n, d) => n + readdirSync(d).filter((t) => !t.startsWith('.')).length, 0);
  const wt = existsSync(root) ? bytesUnder(root) : { bytes: 0, complete: true };
  const db = ['', '-wal', '-shm'].reduce((n, s) => n + (existsSync(adapter.paths.db + s) ? lstatSync(adapter.paths.db + s).size : 0), 0);
  return {
    worktrees: { path: root, bytes: wt.bytes, workspaces, complete: wt.complete },
    logs: { path: adapter.paths.logs, bytes: existsSync(adapter.paths.logs) ? bytesUnder(adapter.paths.logs).bytes : 0 },
    db: { path: adapter.paths.db, bytes: db },
  };
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function diskLine(d: DiskUse, keepMs: number): string {
  return `workspaces ${humanBytes(d.worktrees.bytes)}${d.worktrees.complete ? '' : '+'} (${d.worktrees.workspaces}; finished ones removed after ${Math.round(keepMs / 3_600_000)} h), logs ${humanBytes(d.logs.bytes)}, database ${humanBytes(d.db.bytes)}`;
}
