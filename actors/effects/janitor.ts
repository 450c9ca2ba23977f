/**
 * The janitor: removes the workspace and the local branch of a task that ended (merged or
 * abandoned) more than `engine.janitor.keepMs` ago, on local hosts. Run with the reaper's tick.
 * An abandoned task keeps `refs/oxi/tasks/<id>` (its last attempt); a merged one loses it too.
 */
import { existsSync, realpathSync, rmSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import type { LedgerNote } from '../../machines/effects.js';
import type { Adapter } from '../../src/config/schema.js';
import type { Db } from '../../src/store/db.js';
import { finishedWithLeftovers, forgetLeftovers } from '../../src/store/tasks.js';
import { gitRun } from '../git/git.js';
import { taskRef } from '../hosts/workspace.js';
import { adapterForTask } from '../../src/config/repos.js';

/** True when `path` lies strictly inside `root` (after resolving links): the janitor deletes nothing else. */
function inside(root: string, path: string): boolean {
  if (!existsSync(root) || !existsSync(path)) return false;
  const rel = relative(realpathSync(root), realpathSync(path));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

export async function sweepFinished(deps: { db: Db; adapter: Adapter; now: number }): Promise<LedgerNote[]> {
  const { db, adapter, now } = deps;
  const local = new Set(adapter.hosts.filter((h) => h.kind === 'local').map((h) => h.name));
  const rows = finishedWithLeftovers(db, now - adapter.engine.janitor.keepMs);
  const ledger: LedgerNote[] = [];
  for (const t of rows) {
    // A workspace on an ssh host is that host's to clean: only local ones are removed here.
    if (t.host !== null && !local.has(t.host)) continue;
    const removed: string[] = [];
    if (t.worktree && inside(adapter.paths.worktreesRoot, t.worktree)) {
      rmSync(t.worktree, { recursive: true, force: true });
      removed.push(t.worktree);
    }
    // The task's own repository's clone (branch names repeat across repositories).
    const repo = adapterForTask(adapter, t).repo.path;
    const head = (await gitRun(repo, ['symbolic-ref', '-q', 'HEAD'], { ok: [0, 1] })).stdout.trim();
    const refs = [...(t.branch ? [`refs/heads/${t.branch}`] : []), ...(t.status === 'merged' ? [taskRef(t.id)] : [])];
    for (const ref of refs) {
      // Never the checked-out branch of the main clone, whatever the row says.
      if (ref === head) continue;
      if ((await gitRun(repo, ['rev-parse', '--verify', '-q', ref], { ok: [0, 1] })).exitCode !== 0) continue;
      const r = await gitRun(repo, ['update-ref', '-d', ref], { ok: [0, 1] });
      if (r.exitCode === 0) removed.push(ref);
    }
    forgetLeftovers(db, t.id, t.status);
    if (removed.length) ledger.push({ kind: 'janitor.removed', payload: { task: t.id, status: t.status, removed } });
  }
  return ledger;
}
