import type { LedgerNote, SeedOutput, TaskBoot } from '../../machines/effects.js';
import type { RoadmapSource } from '../../src/roadmap/source.js';
import { heldRepos, newTasksHeld } from '../../src/dispatch/budget.js';
import { bareTaskId, engineTaskId, repoNames } from '../../src/config/repos.js';
import { abandonQueued, countLive, getTask, ingestItems, listTasks, markMissing, nextQueued } from '../../src/store/tasks.js';
import { TERMINAL_TASK_STATUSES } from '../../machines/status.js';
import { MarkdownRoadmapSource } from '../roadmap/markdown-source.js';
import { depsForRepo, type EffectDeps } from './deps.js';

/** Items whose closing already failed (reported once, tried again each tick). */
const closeFailures = new WeakMap<RoadmapSource, Set<string>>();

/**
 * Ingests the roadmap source (never duplicating a task id), marks vanished items, reconciles with the
 * source (an item closed by a human abandons its task; a merged task closes its item; a new tier label
 * moves a queued task), and returns the queued tasks to bring alive, in tier order, up to the live-set cap.
 */
export async function seedRoadmap(deps: EffectDeps): Promise<SeedOutput> {
  const { adapter, db, clock } = deps;
  const ledger: LedgerNote[] = [];
  const abandon: NonNullable<SeedOutput['abandon']> = [];
  // One roadmap source per repository (with `repo`, the adapter's own), each ingested under its repository's name.
  for (const repo of repoNames(adapter)) {
    const r = await seedRepo(depsForRepo(deps, repo), repo);
    ledger.push(...r.ledger);
    abandon.push(...r.abandon);
  }
  const now = clock.now();
  // Past the daily soft cap no new task starts: not even its planner runs (that would be spend for
  // a task that could not get a slot before tomorrow anyway). Items stay queued until the next UTC day.
  // Asked through the pool's budget gate: a day the soft cap stops only the seeder still gets its warning row.
  if ((deps.pool?.budgetState().soft ?? newTasksHeld(db, now, adapter.budget)) && nextQueued(db, 1).length) return { spawn: [], ledger, abandon };
  const room = adapter.engine.maxLiveTasks - countLive(db);
  // A repository past its own soft cap (repos[].budget) holds its tasks; the others go on.
  const spawn: TaskBoot[] = nextQueued(db, room, heldRepos(db, adapter, now)).map((t) => ({ id: t.id, title: t.title, description: t.description, tier: t.tier, attempt: t.attempt }));
  return { spawn, ledger, abandon };
}

/**
 * One repository's roadmap: items become tasks `<repo>/<id>` (bare ids with `repo`). A task stored under its
 * bare id before the adapter named `repos` keeps that id (its repository column says whose it is): never ingested twice.
 */
async function seedRepo(deps: EffectDeps, repo: string): Promise<{ ledger: LedgerNote[]; abandon: NonNullable<SeedOutput['abandon']> }> {
  const { adapter, db, clock } = deps;
  const source = deps.roadmap ?? new MarkdownRoadmapSource(adapter.roadmap);
  const idOf = (itemId: string): string => {
    const id = engineTaskId(adapter, repo, itemId);
    if (id === itemId) return id;
    return getTask(db, itemId)?.repo === repo && !getTask(db, id) ? itemId : id;
  };
  const mine = (t: { id: string; repo: string }) => t.repo === repo;
  // Only a source that can close items needs to know which tasks are still active (a file never closes one).
  const active = source.kind === 'markdown' ? [] : listTasks(db).filter((t) => mine(t) && !(TERMINAL_TASK_STATUSES as readonly string[]).includes(t.status)).map((t) => bareTaskId(adapter, t.id));
  const read = await source.read(active);
  const now = clock.now();
  const ledger: LedgerNote[] = [];
  const items = read.items.map((item) => ({ ...item, id: idOf(item.id) }));
  for (const item of items) {
    const t = getTask(db, item.id);
    // Only a task not yet dispatched changes tier (ingestItems refreshes queued rows alone).
    if (t && t.status === 'queued' && t.tier !== item.tier) ledger.push({ kind: 'roadmap.tier_changed', payload: { task: item.id, from: t.tier, to: item.tier } });
  }
  const { added } = ingestItems(
    db,
    items.map((item, seq) => ({ id: item.id, repo, tier: item.tier, title: item.title, description: item.description, seq })),
    now,
  );
  const missing = markMissing(db, repo, items.map((i) => i.id), now);
  if (added.length) ledger.push({ kind: 'seeder.ingested', payload: { added } });
  if (missing.length) ledger.push({ kind: 'seeder.missing', payload: { missing } });
  const abandon = (await closedAtSource(deps, read.closed.map((c) => ({ ...c, id: idOf(c.id) })), now, ledger)) ?? [];
  await closeMerged(deps, source, items.map((i) => i.id), ledger);
  return { ledger, abandon };
}

/**
 * Items a human closed: a queued task is abandoned here; a live one is told (`task.abandon`). A task whose
 * PR merged is left alone: its issue was closed by that merge, and prWatcher records the merge.
 */
async function closedAtSource(deps: EffectDeps, closed: Array<{ id: string; reason: string }>, now: number, ledger: LedgerNote[]): Promise<SeedOutput['abandon']> {
  const abandon: NonNullable<SeedOutput['abandon']> = [];
  for (const c of closed) {
    const t = getTask(deps.db, c.id);
    if (!t || (TERMINAL_TASK_STATUSES as readonly string[]).includes(t.status)) continue;
    if (t.pr !== null && (await deps.forge.getPr(t.pr))?.state === 'merged') continue;
    const reason = `${c.reason} at the roadmap source`;
    if (t.status === 'queued') {
      if (abandonQueued(deps.db, t.id, reason, now, 'seeder')) ledger.push({ kind: 'roadmap.closed', payload: { task: t.id, reason: c.reason, was: 'queued' } });
      continue;
    }
    ledger.push({ kind: 'roadmap.closed', payload: { task: t.id, reason: c.reason, was: t.status } });
    abandon.push({ taskId: t.id, reason });
  }
  return abandon;
}

/** Merged tasks whose item is still open at the source: closed there (the issue), whoever merged them. */
async function closeMerged(deps: EffectDeps, source: RoadmapSource, openIds: string[], ledger: LedgerNote[]): Promise<void> {
  if (source.kind === 'markdown') return;
  const failed = closeFailures.get(source) ?? new Set<string>();
  closeFailures.set(source, failed);
  for (const id of openIds) {
    const t = getTask(deps.db, id);
    if (t?.status !== 'merged') continue;
    try {
      if (await source.merged(bareTaskId(deps.adapter, id), t.pr)) ledger.push({ kind: 'roadmap.item_closed', payload: { task: id, pr: t.pr } });
      failed.delete(id);
    } catch (error) {
      if (!failed.has(id)) ledger.push({ kind: 'roadmap.close_failed', payload: { task: id, error: (error as Error).message } });
      failed.add(id);
    }
  }
}
