/**
 * Log retention: the agents' stream files of a task that ended (merged or abandoned) more than
 * `engine.janitor.logsKeepMs` ago are removed, every role's, on the engine's machine and on the SSH hosts the task
 * (or a shadow run of it) ran on. Run with the reaper's tick, after the workspace janitor. A task's logs are marked
 * removed (tasks.logs_removed_at) once every host's part is settled: never removed twice, and `oxi tail` can say
 * they are gone. A host out of reach is skipped this tick (said once) and its tasks tried again on the next.
 * Deleted: only a directory right inside a logs root, never through a link (actors/hosts/log-dirs.ts).
 */
import { dirname, join, posix } from 'node:path';
import { adapterForTask } from '../../src/config/repos.js';
import type { LedgerNote } from '../../machines/effects.js';
import { HostUnreachableError } from '../../src/errors.js';
import type { Db } from '../../src/store/db.js';
import { janitorNotes } from './janitor-notes.js';
import { beginSweep } from './janitor-sweeping.js';
import { finishedWithLogs, markLogsRemoved, type TaskWithLogs } from '../../src/store/task-logs.js';
import { getTask } from '../../src/store/tasks.js';
import { emptyReport, type LeftoverReport } from '../hosts/leftovers.js';
import { removeLocalLogDir, removeRemoteLogDirs, type LogDir } from '../hosts/log-dirs.js';
import { remoteStreamsDir } from '../hosts/places.js';
import type { SweepDeps } from './janitor.js';

/** Tasks whose logs one tick works through (a backlog, the first sweep after an upgrade, is spread over ticks). */
export const LOG_ROWS_PER_TICK = 100;

/** One host's part of a task's logs. */
interface Part {
  host: string;
  dir: LogDir;
  report?: LeftoverReport;
}

const notes = janitorNotes();

/**
 * The task's parts: the engine's machine always (its agents' state lives there), and each SSH host it ran on. A
 * multi-repo task id (`repo/T1-x`) has its logs one level down (`<logs>/repo/T1-x`): that folder is their root.
 */
function partsOf(deps: SweepDeps, row: TaskWithLogs): { parts: Part[]; unknown: string[] } {
  const { adapter } = deps;
  const sub = row.id.includes('/') ? dirname(row.id) : '';
  const local = sub ? join(adapter.paths.logs, sub) : adapter.paths.logs;
  const parts: Part[] = [{ host: 'local', dir: { root: local, dir: join(adapter.paths.logs, row.id) } }];
  const unknown: string[] = [];
  // As the task's workers saw it: a repository may have a worktrees root of its own on a host.
  const view = adapterForTask(adapter, row);
  for (const name of new Set([row.host, ...row.shadowHosts])) {
    if (!name) continue;
    const cfg = view.hosts.find((h) => h.name === name);
    if (!cfg) unknown.push(name);
    else if (cfg.kind === 'ssh') {
      const dir = remoteStreamsDir(view, cfg, row.id);
      parts.push({ host: name, dir: { root: posix.dirname(dir), dir } });
    }
  }
  return { parts, unknown };
}

async function removeOnHost(deps: SweepDeps, host: string, parts: Part[], ledger: LedgerNote[]): Promise<void> {
  const cfg = deps.adapter.hosts.find((h) => h.name === host);
  const transport = deps.hosts?.get(host);
  // No transport to reach it with (yet): its parts wait.
  if (!transport || cfg?.kind !== 'ssh') return;
  try {
    // One round trip for the host's batch, bounded by the host's command timeout.
    const reports = await removeRemoteLogDirs(transport, parts.map((p) => p.dir), cfg.connection?.commandTimeoutMs ?? 60_000);
    parts.forEach((p, i) => (p.report = reports[i]));
    notes.forget(deps.db, `unreachable:${host}`);
  } catch (error) {
    if (notes.once(deps.db, `unreachable:${host}`)) {
      const kind = error instanceof HostUnreachableError ? 'janitor.host_unreachable' : 'janitor.failed';
      ledger.push({ kind, payload: { host, logs: true, error: (error as Error)?.message ?? String(error) } });
    }
  }
}

/** What the parts' reports mean for the task's mark and the ledger. */
function settle(deps: SweepDeps, row: TaskWithLogs, parts: Part[], unknown: string[], ledger: LedgerNote[]): void {
  const { db, now } = deps;
  const note = { task: row.id, status: row.status };
  const all = (key: keyof LeftoverReport) => parts.flatMap((p) => (p.report?.[key] ?? []).map((path) => ({ host: p.host, path })));
  const removed = all('removed');
  const failed = all('failed');
  const refused = parts.filter((x) => x.report?.refused.length);
  // Never deleted, never forced: a link or a path outside the root is a human's to look at; said once, not per tick.
  for (const p of refused) if (notes.once(db, `refused:${row.id}:${p.host}`)) ledger.push({ kind: 'janitor.refused', payload: { ...note, host: p.host, refused: p.report!.refused, root: p.dir.root } });
  const settled = !failed.length && !refused.length && parts.every((p) => p.report);
  // What went is recorded even when the rest waits (it goes once); a host no longer configured is named when the task is marked.
  if (removed.length || (settled && unknown.length)) ledger.push({ kind: 'janitor.logs_removed', payload: { ...note, removed, ...(settled && unknown.length ? { unreachedHosts: unknown } : {}) } });
  if (failed.length) {
    if (notes.once(db, `failed:${row.id}`)) ledger.push({ kind: 'janitor.failed', payload: { ...note, logs: true, failed } });
    return;
  }
  // Refused is not gone: the task is not marked, its logs may still be there.
  if (!settled) return;
  notes.forget(db, `failed:${row.id}`);
  for (const p of parts) notes.forget(db, `refused:${row.id}:${p.host}`);
  markLogsRemoved(db, row.id, row.status, row.updated_at, now);
}

/** A row whose parts cannot be worked out (its repository no longer configured, say) is skipped, said once: one row never stops the sweep. */
function rowParts(deps: SweepDeps, row: TaskWithLogs, ledger: LedgerNote[]) {
  try {
    const parts = partsOf(deps, row);
    notes.forget(deps.db, `skipped:${row.id}`);
    return [{ row, ...parts }];
  } catch (error) {
    if (notes.once(deps.db, `skipped:${row.id}`)) ledger.push({ kind: 'janitor.skipped', payload: { task: row.id, status: row.status, logs: true, error: (error as Error)?.message ?? String(error) } });
    return [];
  }
}

export async function sweepLogs(deps: SweepDeps): Promise<LedgerNote[]> {
  const { db, adapter, now } = deps;
  const ledger: LedgerNote[] = [];
  // Tasks waiting on a host out of reach, or holding a refused part, go last: they never hold the others back.
  const later = (t: { row: TaskWithLogs; parts: Part[] }) => (t.parts.some((p) => notes.has(db, `unreachable:${p.host}`) || notes.has(db, `refused:${t.row.id}:${p.host}`)) ? 1 : 0);
  const rows = finishedWithLogs(db, now - adapter.engine.janitor.logsKeepMs)
    .flatMap((row) => rowParts(deps, row, ledger))
    .sort((a, b) => later(a) - later(b))
    .slice(0, LOG_ROWS_PER_TICK);
  // Marked before the check: a retry of one of these is provisioned (and writes new logs) only once this is over.
  const end = beginSweep(db, rows.map((r) => r.row.id));
  try {
    await removeRows(deps, rows, ledger);
  } finally {
    end();
  }
  return ledger;
}

async function removeRows(deps: SweepDeps, rows: Array<{ row: TaskWithLogs; parts: Part[]; unknown: string[] }>, ledger: LedgerNote[]): Promise<void> {
  const { db } = deps;
  // Read again just before: a task retried since (live again) keeps its logs.
  const still = (row: TaskWithLogs) => {
    const t = getTask(db, row.id);
    return t?.status === row.status && t.updated_at === row.updated_at;
  };
  const due = rows.filter((r) => still(r.row));
  const byHost = new Map<string, Part[]>();
  for (const r of due) for (const p of r.parts.slice(1)) (byHost.get(p.host) ?? byHost.set(p.host, []).get(p.host)!).push(p);
  // The SSH hosts in parallel (one slow host holds no other); settled, so a rejection is never left unhandled meanwhile.
  const hostsDone = Promise.allSettled([...byHost].map(([host, parts]) => removeOnHost(deps, host, parts, ledger)));
  for (const r of due) {
    try {
      r.parts[0].report = await removeLocalLogDir(r.parts[0].dir);
    } catch (error) {
      r.parts[0].report = { ...emptyReport(), failed: [(error as Error)?.message ?? String(error)] };
    }
  }
  const failed = (await hostsDone).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  for (const r of due) settle(deps, r.row, r.parts, r.unknown, ledger);
}
