/**
 * Ship recovery: after a worker exits, commit what it left uncommitted in its worktree — or, when the tree
 * holds files nobody declared, commit nothing and say so in the ledger. Re-running it on a clean tree is a no-op.
 */
import { GitError } from '../../src/errors.js';
import { commitPaths, commitsAhead, git, headSha, worktreeStatus, type WorktreeStatus } from './git.js';

export type ShipPolicy = 'files_touched_only' | 'strict' | 'permissive';

export interface ShipInput {
  worktree: string;
  /** The branch the task's branch is measured against (e.g. main). */
  base: string;
  /** The branch the worktree must have checked out. */
  branch: string;
  /** Default files_touched_only. */
  policy?: ShipPolicy;
  /** From the plan: repo-relative files, or folders ending in "/". */
  filesTouched: readonly string[];
  taskId: string;
  attempt: number;
  /** Paths ship recovery never commits: the files oxi copied into the workspace (workspace.files, e.g. `.env`). */
  keepOut?: readonly string[];
}

export interface ShipLedgerEntry {
  kind: string;
  payload: Record<string, unknown>;
}

export interface ShipResult {
  headSha: string;
  /** Paths committed by this call (empty when it committed nothing). */
  committed: string[];
  ledger: ShipLedgerEntry[];
  /** True when the branch has no commit ahead of base after this call. */
  empty: boolean;
}

/** oxi's own files in a worktree; never part of a task's change. */
const OXI_DIR = '.oxi/';

function normalize(p: string): string {
  return p.replace(/^(\.\/)+/, '');
}

/** A path is declared if it equals an entry of filesTouched, or lies under an entry that ends with "/". */
export function declared(path: string, filesTouched: readonly string[]): boolean {
  return filesTouched.map(normalize).some((f) => f === path || (f.endsWith('/') && path.startsWith(f)));
}

/** Which dirty paths ship recovery commits under the policy, and what it tells the ledger (pure). */
export function chooseCommit(status: WorktreeStatus, policy: ShipPolicy, filesTouched: readonly string[], attempt: number, keepOut: readonly string[] = []): { toCommit: string[]; ledger: ShipLedgerEntry[] } {
  const ours = (paths: string[]) => paths.filter((p) => !p.startsWith(OXI_DIR) && !keepOut.includes(p));
  const tracked = [...new Set([...ours(status.staged), ...ours(status.modified)])];
  const untracked = ours(status.untracked);
  const dirty = [...new Set([...tracked, ...untracked])].sort();
  const ledger: ShipLedgerEntry[] = [];
  let toCommit: string[] = [];

  if (dirty.length > 0) {
    if (policy === 'strict') {
      ledger.push({ kind: 'ship_recovery.refused_dirty_tree', payload: { paths: dirty, attempt } });
    } else if (policy === 'permissive') {
      toCommit = dirty;
    } else {
      const stray = untracked.filter((p) => !declared(p, filesTouched)).sort();
      if (stray.length > 0) {
        ledger.push({ kind: 'ship_recovery.skipped_dirty_tree', payload: { paths: stray, attempt } });
      } else {
        toCommit = dirty;
      }
    }
  }

  return { toCommit, ledger };
}

export async function ship(input: ShipInput): Promise<ShipResult> {
  const { worktree, base, branch, taskId, attempt } = input;
  const policy = input.policy ?? 'files_touched_only';
  // Committing onto whatever the agent switched to would put the work on the wrong branch.
  const current = await git(worktree, ['symbolic-ref', '--quiet', 'HEAD'], { ok: [0, 1] });
  if (current !== `refs/heads/${branch}`) {
    throw new GitError(
      `Expected the worktree ${worktree} to have branch ${branch} checked out; it has ${current ? current.replace('refs/heads/', '') : 'a detached HEAD'}.`,
      { fix: `Check out ${branch} there (git -C ${worktree} checkout ${branch}) after saving any work, then ship again.` },
    );
  }

  const { toCommit, ledger } = chooseCommit(await worktreeStatus(worktree), policy, input.filesTouched, attempt, input.keepOut);

  let committed: string[] = [];
  if (toCommit.length > 0) {
    const message = `${taskId}: commit the work the worker left uncommitted (attempt ${attempt})\n\nOxi-Task: ${taskId}\n`;
    const sha = await commitPaths(worktree, toCommit, message);
    if (sha) {
      committed = toCommit;
      ledger.push({ kind: 'ship_recovery.committed', payload: { paths: committed, sha, attempt } });
    }
  }

  return {
    headSha: await headSha(worktree),
    committed,
    ledger,
    empty: (await commitsAhead(worktree, base)) === 0,
  };
}
