/** `oxi status`'s promote lines: per recipe, the run in flight (and its process group) or how the last one ended. */
import { promoteName, promoteRecipes } from '../config/promote.js';
import type { Adapter } from '../config/schema.js';
import type { Db } from '../store/db.js';
import { promoteGroups } from '../store/promote-groups.js';
import { recentPromoteRows } from '../store/promote.js';

export interface PromoteStatus {
  name: string;
  /** The run in flight: since when, by which process, its command's process group (null before it started). */
  running: { since: number; ownerPid: number; pid: number | null } | null;
  /** The last run that ended: `interrupted` when the process running it died mid-run (found at a later start). */
  last: { at: number; ok: boolean; interrupted: boolean; summary: string } | null;
}

export function promoteStatus(adapter: Adapter, db: Db): PromoteStatus[] {
  return promoteRecipes(adapter).map((r) => {
    const name = promoteName(r);
    const group = promoteGroups(db, name).at(-1);
    const run = recentPromoteRows(db, 10, name).find((row) => row.kind === 'promote.run');
    const p = run?.payload as { ok?: boolean; interrupted?: boolean; summary?: string } | undefined;
    return {
      name,
      running: group ? { since: group.at, ownerPid: group.owner_pid, pid: group.pid } : null,
      last: run ? { at: run.at, ok: p?.ok === true, interrupted: p?.interrupted === true, summary: p?.summary ?? '' } : null,
    };
  });
}

/** One line per recipe for the text view. */
export function promoteStatusLine(s: PromoteStatus): string {
  if (s.running) return `${s.name}: running since ${new Date(s.running.since).toISOString()} (pid ${s.running.ownerPid}${s.running.pid ? `, process group ${s.running.pid}` : ''})`;
  if (!s.last) return `${s.name}: no runs yet`;
  const state = s.last.interrupted ? 'INTERRUPTED' : s.last.ok ? 'ok' : 'FAILED';
  return `${s.name}: last run ${state} at ${new Date(s.last.at).toISOString()} (${s.last.summary})${s.last.interrupted ? ' — not run again by itself: `oxi promote --now` if it must' : ''}`;
}
