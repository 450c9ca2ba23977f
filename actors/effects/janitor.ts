/**
 * The janitor: removes what a task that ended (merged or abandoned) more than `engine.janitor.keepMs` ago left on
 * its host, local or SSH: its workspace and branch, and the workspaces of its shadow runs (agents.shadow). Run with
 * the reaper's tick. An abandoned task keeps `refs/oxi/tasks/<id>` (its last attempt); a merged one loses it too.
 * A row forgets its leftovers only once they are removed (or found gone); a host out of reach is skipped this tick,
 * its rows kept for the next. Nothing outside the host's worktrees root is ever deleted (actors/hosts/leftovers.ts).
 */
import { join } from 'node:path';
import type { LedgerNote } from '../../machines/effects.js';
import type { Adapter } from '../../src/config/schema.js';
import type { Db } from '../../src/store/db.js';
import { janitorNotes } from './janitor-notes.js';
import { beginSweep } from './janitor-sweeping.js';
import type { HostTransport } from '../../src/ports.js';
import { compactStore } from '../../src/store/retention.js';
import { finishedShadowWorkspaces, forgetShadowWorkspace } from '../../src/store/shadow.js';
import { finishedWithLeftovers, forgetLeftovers, getTask } from '../../src/store/tasks.js';
import { emptyReport, removeLocalLeftovers, type LeftoverReport, type Leftovers } from '../hosts/leftovers.js';
import { removeRemoteLeftovers } from '../hosts/ssh/remote-janitor.js';
import { UPSTREAM } from '../hosts/ssh/remote-git.js';
import { taskRef } from '../hosts/workspace.js';
import { adapterForTask } from '../../src/config/repos.js';
import { HostUnreachableError } from '../../src/errors.js';

/** Rows one SSH host works through per tick (one round trip): a backlog (the first sweep after an upgrade) is spread over ticks. */
export const REMOTE_ROWS_PER_TICK = 20;

/** Rows the engine's machine works through per tick: a backlog (every old shadow workspace after an upgrade) is spread over ticks. */
export const LOCAL_ROWS_PER_TICK = 50;

const FINISHED = ['merged', 'abandoned'];

/** One row's leftovers on one host, and how the row forgets them. */
interface Job {
  key: string;
  /** The task the leftovers are of (marked as being swept while they are removed). */
  task: string;
  host: string;
  /** SSH: the transport and its command bound; local: undefined. */
  remote?: { transport: HostTransport; timeoutMs: number };
  leftovers: Leftovers;
  note: Record<string, unknown>;
  /** The task is still as the row was read (a retry since would be given this workspace again). */
  still(): boolean;
  forget(): void;
}

const notes = janitorNotes();

function jobFor(deps: SweepDeps, row: { id: string; repo: string; host: string | null }, workspace: string | null, refsOf: (ssh: boolean) => string[]): Omit<Job, 'key' | 'note' | 'still' | 'forget' | 'task'> | undefined {
  const view = adapterForTask(deps.adapter, row);
  const name = row.host ?? view.hosts.find((h) => h.kind === 'local')?.name ?? 'local';
  const cfg = view.hosts.find((h) => h.name === name);
  // A host no longer in the adapter: nothing to reach it with; its rows wait (the host may come back).
  if (row.host !== null && !cfg) return undefined;
  const base = { workspace, mainBranch: view.repo.mainBranch };
  if (cfg?.kind !== 'ssh') return { host: name, leftovers: { ...base, root: deps.adapter.paths.worktreesRoot, clone: view.repo.path, refs: refsOf(false) } };
  const transport = deps.hosts?.get(name);
  if (!transport) return undefined;
  return {
    host: name,
    remote: { transport, timeoutMs: cfg.connection?.commandTimeoutMs ?? 60_000 },
    leftovers: { ...base, root: cfg.worktreesRoot, clone: cfg.mainClone, refs: refsOf(true) },
  };
}

/** A row whose job cannot be built (its repository no longer configured, say) is skipped, said once: one row never stops the sweep. */
function tryJob(deps: SweepDeps, key: string, note: Record<string, unknown>, ledger: LedgerNote[], build: () => Omit<Job, 'key' | 'note' | 'still' | 'forget' | 'task'> | undefined) {
  try {
    const job = build();
    notes.forget(deps.db, `skipped:${key}`);
    return job;
  } catch (error) {
    if (notes.once(deps.db, `skipped:${key}`)) ledger.push({ kind: 'janitor.skipped', payload: { ...note, error: (error as Error)?.message ?? String(error) } });
    return undefined;
  }
}

function jobs(deps: SweepDeps, cutoff: number, ledger: LedgerNote[]): Job[] {
  const { db, now } = deps;
  const out: Job[] = [];
  // Status and updated_at both: abandoned, retried and abandoned again is not the row read.
  const same = (id: string, status: (s: string) => boolean, updatedAt: number | undefined) => {
    const t = getTask(db, id);
    return !!t && status(t.status) && t.updated_at === updatedAt;
  };
  for (const t of finishedWithLeftovers(db, cutoff)) {
    const refs = (ssh: boolean) => [
      ...(t.branch ? [`refs/heads/${t.branch}`, ...(ssh ? [`refs/remotes/${UPSTREAM}/${t.branch}`] : [])] : []),
      ...(t.status === 'merged' ? [taskRef(t.id)] : []),
    ];
    const key = `task:${t.id}`;
    const note = { task: t.id, status: t.status };
    const job = tryJob(deps, key, note, ledger, () => jobFor(deps, t, t.worktree, refs));
    const still = () => same(t.id, (s) => s === t.status, t.updated_at);
    if (job) out.push({ ...job, key, task: t.id, note, still, forget: () => forgetLeftovers(db, t.id, t.status, t.updated_at) });
  }
  for (const s of finishedShadowWorkspaces(db, cutoff)) {
    const key = `shadow:${s.id}`;
    const note = { task: s.task, shadow: { attempt: s.attempt, fix: s.fix } };
    // A shadow makes no ref in the host's clone: its branch lives in its own workspace only.
    const job = tryJob(deps, key, note, ledger, () => jobFor(deps, { id: s.task, repo: s.repo, host: s.host }, s.workspace, () => []));
    const updatedAt = getTask(db, s.task)?.updated_at;
    const still = () => same(s.task, (x) => FINISHED.includes(x), updatedAt);
    if (job) out.push({ ...job, key, task: s.task, note, still, forget: () => forgetShadowWorkspace(db, s.id, now) });
  }
  return out;
}

/** What a removal's report means for its row and the ledger. */
function settle(db: Db, job: Job, report: LeftoverReport, ledger: LedgerNote[]): void {
  const host = job.host;
  // What went is recorded even when the rest waits for the next tick.
  if (report.removed.length) ledger.push({ kind: 'janitor.removed', payload: { ...job.note, host, removed: report.removed } });
  if (report.failed.length) {
    // Kept for the next tick; said once, not on every try.
    if (notes.once(db, `failed:${host}:${job.key}`)) ledger.push({ kind: 'janitor.failed', payload: { ...job.note, host, failed: report.failed } });
    return;
  }
  notes.forget(db, `failed:${host}:${job.key}`);
  job.forget();
  // Never deleted, never tried again: a path outside the root (or a link) is a human's to look at.
  if (report.refused.length) ledger.push({ kind: 'janitor.refused', payload: { ...job.note, host, refused: report.refused, root: job.leftovers.root } });
}

async function sweepHost(db: Db, host: string, list: Job[], ledger: LedgerNote[]): Promise<void> {
  // Rows that failed before go last: a few that keep failing never hold the rest back.
  const failing = (j: Job) => (notes.has(db, `failed:${host}:${j.key}`) ? 1 : 0);
  const ordered = [...list].sort((a, b) => failing(a) - failing(b));
  // Read again just before: a task retried since the rows were read keeps its workspace.
  const slice = ordered.slice(0, REMOTE_ROWS_PER_TICK);
  // Marked before the check: provisioning a retry of one of these waits until the round trip is over.
  const end = beginSweep(db, slice.map((j) => j.task));
  try {
    await removeBatch(db, host, slice.filter((j) => j.still()), ledger);
  } finally {
    end();
  }
}

async function removeBatch(db: Db, host: string, batch: Job[], ledger: LedgerNote[]): Promise<void> {
  if (!batch.length) return;
  let reports: LeftoverReport[];
  try {
    // One round trip for the batch: on a busy host each SSH command costs seconds.
    reports = await removeRemoteLeftovers(batch[0].remote!.transport, batch.map((j) => j.leftovers), batch[0].remote!.timeoutMs);
  } catch (error) {
    // Out of reach (or not answering within its bound): the host waits for the next tick, its rows kept; said once.
    if (notes.once(db, `unreachable:${host}`)) {
      const kind = error instanceof HostUnreachableError ? 'janitor.host_unreachable' : 'janitor.failed';
      ledger.push({ kind, payload: { host, error: (error as Error)?.message ?? String(error) } });
    }
    return;
  }
  notes.forget(db, `unreachable:${host}`);
  batch.forEach((job, i) => settle(db, job, reports[i], ledger));
}

export interface SweepDeps {
  db: Db;
  adapter: Adapter;
  now: number;
  /** The hosts' transports (SSH hosts are reached through them; a host without one is skipped). */
  hosts?: ReadonlyMap<string, HostTransport>;
}

export async function sweepFinished(deps: SweepDeps): Promise<LedgerNote[]> {
  const { db, adapter, now } = deps;
  const ledger: LedgerNote[] = [];
  const all = jobs(deps, now - adapter.engine.janitor.keepMs, ledger);
  const remote = new Map<string, Job[]>();
  for (const job of all) {
    if (!job.remote) continue;
    const list = remote.get(job.host) ?? [];
    list.push(job);
    remote.set(job.host, list);
  }
  // The SSH hosts in parallel (one slow host holds no other), each through its own rows in order.
  const hostsDone = Promise.allSettled([...remote].map(([host, list]) => sweepHost(db, host, list, ledger)));
  try {
    const failing = (j: Job) => (notes.has(db, `failed:${j.host}:${j.key}`) ? 1 : 0);
    const local = all.filter((j) => !j.remote).sort((a, b) => failing(a) - failing(b)).slice(0, LOCAL_ROWS_PER_TICK);
    for (const job of local) {
      const end = beginSweep(db, [job.task]);
      try {
        if (!job.still()) continue;
        let report: LeftoverReport;
        try {
          report = await removeLocalLeftovers(job.leftovers);
        } catch (error) {
          report = { ...emptyReport(), failed: [(error as Error)?.message ?? String(error)] };
        }
        settle(db, job, report, ledger);
      } finally {
        end();
      }
    }
  } finally {
    // Awaited whatever happened here: no host's sweep is left running (or rejecting) unattended.
    const failed = (await hostsDone).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return ledger;
}

/** Where the janitor's archives go: `<stateDir>/archive/`. */
export function archiveDir(adapter: Adapter): string {
  return join(adapter.paths.stateDir, 'archive');
}

// When each database was last compacted (in this process): retention runs once per `intervalMs`, not on every reaper tick.
const lastCompacted = new WeakMap<Db, number>();

/**
 * Retention (`engine.retention`): old ledger rows and the snapshots of long-finished tasks move to the
 * monthly archive databases. Live tasks are never touched; see src/store/retention.ts for what is kept.
 */
export function compactFinished(deps: { db: Db; adapter: Adapter; now: number }): LedgerNote[] {
  const { db, adapter, now } = deps;
  const policy = adapter.engine.retention;
  const last = lastCompacted.get(db);
  if (last !== undefined && now - last < policy.intervalMs) return [];
  lastCompacted.set(db, now);
  const report = compactStore(db, { dir: archiveDir(adapter), policy, now });
  // A backlog (the first run on an old database) is moved a slice per reaper tick, not in one long stall.
  if (report.more) lastCompacted.delete(db);
  if (!report.ledgerRows && !report.snapshots) return [];
  return [{ kind: 'janitor.archived', payload: { ledgerRows: report.ledgerRows, snapshots: report.snapshots, archives: report.archives } }];
}
