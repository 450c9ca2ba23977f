/**
 * main moves only by fast-forwards: the engine's own squash merges (a commit whose parent is the old main) or a
 * human's. Anything else (a force-push, a rewrite, a worker that moved the ref in an older layout) sets the
 * killswitch with its reason and one notification, and no merge happens until a human unkills (contract 3.7).
 */
import type { LedgerNote } from '../../machines/effects.js';
import { readMainSha, writeMainSha } from '../../src/store/engine-state.js';
import type { EffectDeps } from './deps.js';
import { isAncestor, resolveCommit } from '../git/git.js';

export const MAIN_MOVED = 'main moved unexpectedly';

export interface MainCheck {
  ok: boolean;
  sha?: string;
  ledger: LedgerNote[];
}

/**
 * Compares main now with the sha last recorded. A fast-forward is recorded; anything else is reported once
 * (the record then moves on to the new sha, so a human's unkill accepts it) and the engine is killed.
 */
export async function checkMainIntegrity(deps: EffectDeps): Promise<MainCheck> {
  const repo = deps.adapter.repo.path;
  const main = `refs/heads/${deps.adapter.repo.mainBranch}`;
  const now = await resolveCommit(repo, main);
  if (!now) return { ok: true, ledger: [] };
  // With several repositories each one's main is recorded apart (the deps are that repository's: depsForRepo).
  const key = deps.adapter.scopedTo;
  const recorded = readMainSha(deps.db, key);
  if (recorded === now) return { ok: true, sha: now, ledger: [] };
  if (!recorded || (await resolveCommit(repo, recorded)) && (await isAncestor(repo, recorded, now))) {
    writeMainSha(deps.db, now, key);
    return { ok: true, sha: now, ledger: [] };
  }
  const reason = `${MAIN_MOVED}: ${key ? `${key}'s ` : ''}${main} went from ${recorded} to ${now}, which is no fast-forward; check what rewrote it, then oxi unkill`;
  writeMainSha(deps.db, now, key);
  deps.selfKill?.(reason);
  await deps.notifier.notify({ kind: 'main.moved', title: 'oxi killed itself: main moved unexpectedly', body: reason, severity: 'error' }).catch(() => undefined);
  return { ok: false, sha: now, ledger: [{ kind: 'main.moved_unexpectedly', payload: { ref: main, from: recorded, to: now, ...(key ? { repo: key } : {}) } }] };
}

/** After the engine's own merge: main is where that merge put it. */
export async function recordMain(deps: EffectDeps): Promise<void> {
  const sha = await resolveCommit(deps.adapter.repo.path, `refs/heads/${deps.adapter.repo.mainBranch}`);
  if (sha) writeMainSha(deps.db, sha, deps.adapter.scopedTo);
}
