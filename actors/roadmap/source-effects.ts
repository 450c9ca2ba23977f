import type { LedgerNote } from '../../machines/effects.js';
import type { RoadmapSource } from '../../src/roadmap/source.js';
import type { EffectDeps } from '../effects/deps.js';
import type { Adapter } from '../../src/config/schema.js';
import { bareTaskId } from '../../src/config/repos.js';

/**
 * A task merged: its item is closed at the source (the issue), at once rather than at the seeder's next
 * look. A failure is recorded and never the merge's: the seeder closes it on a later tick.
 */
export async function closeSourceItem(deps: Pick<EffectDeps, 'roadmap' | 'adapter'>, taskId: string, pr: number): Promise<LedgerNote[]> {
  if (!deps.roadmap || deps.roadmap.kind === 'markdown') return [];
  try {
    // The source knows the item by its own id (`T0-1`, not `product/T0-1`).
    return (await deps.roadmap.merged(bareTaskId(deps.adapter, taskId), pr)) ? [{ kind: 'roadmap.item_closed', payload: { task: taskId, pr } }] : [];
  } catch (error) {
    return [{ kind: 'roadmap.close_failed', payload: { task: taskId, pr, error: (error as Error).message } }];
  }
}

/** The source links the PR (an issue comment, written once); a failure is recorded, never the PR's. */
export async function linkPr(source: RoadmapSource, taskId: string, pr: { number: number; url?: string }, adapter?: Pick<Adapter, 'repos'>): Promise<LedgerNote[]> {
  try {
    return (await source.prOpened(adapter ? bareTaskId(adapter, taskId) : taskId, { number: pr.number, ...(pr.url ? { url: pr.url } : {}) })) ? [{ kind: 'roadmap.pr_linked', payload: { pr: pr.number } }] : [];
  } catch (error) {
    return [{ kind: 'roadmap.link_failed', payload: { pr: pr.number, error: (error as Error).message } }];
  }
}
