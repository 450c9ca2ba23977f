import type { EffectInput, LedgerNote, PrScanOutput } from '../../machines/effects.js';
import { PR_STATES } from '../../machines/task.js';
import { listTasks } from '../../src/store/tasks.js';
import { depsForRepo, depsForTask, type EffectDeps } from './deps.js';
import { repoNames, repoOfTask } from '../../src/config/repos.js';
import { checkMainIntegrity } from './main-integrity.js';

type ScanEvent = PrScanOutput['events'][number];

/**
 * prWatcher's reconciliation: for every task that owns a PR, what the forge says now. Merged (by oxi,
 * by the forge's auto-merge, or by a human) → the task is merged; closed unmerged → closed; while a
 * task waits on a human, failed CI or a review requesting changes sends it back to its worker.
 * Read-only while the engine is killed: it observes and records, it tells no task and deletes nothing.
 */
export function makePrScan() {
  const seen = new Map<string, string>(); // task#pr → last state logged, so each observation is logged once
  const reported = new Map<string, string>(); // task:what → head sha already sent back to the worker
  const swept = new Set<string>(); // branches the janitor is done with
  return async function prScan(deps: EffectDeps, input: EffectInput<'prScan'>): Promise<PrScanOutput> {
    const events: ScanEvent[] = [];
    // Every tick, killed or not: main moved by anything but a fast-forward sets the killswitch.
    // Each repository's main (with `repo`, the one).
    const ledger: LedgerNote[] = [];
    for (const repo of repoNames(deps.adapter)) ledger.push(...(await checkMainIntegrity(depsForRepo(deps, repo))).ledger);
    const watched = new Set<string>([...PR_STATES, 'awaiting_human', 'held']);
    const janitor = async (task: string, branch: string) => {
      // Branch names repeat across repositories: the key names the task's repository too.
      const key = `${repoOfTask(deps.adapter, task)}:${branch}`;
      if (input.readOnly || swept.has(key)) return;
      swept.add(key);
      try {
        await depsForTask(deps, task).forge.deleteBranch(branch);
        ledger.push({ kind: 'janitor.branch_deleted', payload: { task, branch } });
      } catch {
        /* not ours, or still checked out somewhere: left alone */
      }
    };
    for (const t of listTasks(deps.db)) {
      if (t.pr === null) continue;
      if (t.status === 'merged' && t.branch) {
        await janitor(t.id, t.branch);
        continue;
      }
      if (!watched.has(t.status)) continue;
      // Each task's PR is on its repository's forge (PR numbers repeat across forges).
      const forge = depsForTask(deps, t.id).forge;
      const pr = await forge.getPr(t.pr);
      if (!pr) continue;
      if (seen.get(`${t.id}#${pr.number}`) !== pr.state) {
        seen.set(`${t.id}#${pr.number}`, pr.state);
        if (pr.state !== 'open') ledger.push({ kind: 'pr_watcher.observed', payload: { task: t.id, pr: pr.number, state: pr.state, readOnly: input.readOnly } });
      }
      // The merge effect is about to learn it itself; an event now would only be noise.
      if (t.status === 'merging') continue;
      if (pr.state === 'merged') {
        events.push({ taskId: t.id, type: 'pr.merged', detail: `PR #${pr.number} merged outside the engine` });
        await janitor(t.id, pr.branch);
        continue;
      }
      if (pr.state === 'closed') {
        events.push({ taskId: t.id, type: 'pr.closed', detail: `PR #${pr.number} closed` });
        continue;
      }
      if (t.status !== 'awaiting_human' || input.readOnly) continue;
      // Each failure is sent once per head: the fix loop pushes a new head, which is judged afresh.
      if (forge.readChecks && reported.get(`${t.id}:ci`) !== pr.headSha) {
        const checks = await forge.readChecks(pr);
        if (checks.state === 'failure') {
          reported.set(`${t.id}:ci`, pr.headSha);
          const failed = checks.log.split('\n').filter((l) => /fail|error/i.test(l)).slice(0, 20);
          events.push({ taskId: t.id, type: 'pr.checks_failed', detail: checks.log.slice(-4000), ledger: [{ kind: 'ci.issue', payload: { pr: pr.number, sha: checks.sha, failed } }] });
          continue;
        }
      }
      if (forge.changesRequested && reported.get(`${t.id}:review`) !== pr.headSha) {
        const asked = await forge.changesRequested(pr);
        if (asked) {
          reported.set(`${t.id}:review`, pr.headSha);
          events.push({ taskId: t.id, type: 'pr.changes_requested', detail: asked, ledger: [{ kind: 'review.changes_requested', payload: { pr: pr.number, sha: pr.headSha } }] });
        }
      }
    }
    return { events, ledger };
  };
}
