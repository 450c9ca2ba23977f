/**
 * A task's change as the page shows it: base..head from the task's persisted context (else its
 * PR row, else the main clone's refs/oxi/tasks/<id> and its merge-base with main), the files with
 * their line counts and scope verdict, and each file's unified patch. Git runs argv-form with the
 * engine's hardened config and scrubbed environment (actors/git.ts).
 */
import { git, gitRun, resolveCommit } from '../../actors/git/git.js';
import { taskRef } from '../../actors/hosts/workspace.js';
import type { Adapter } from '../../src/config/schema.js';
import { adapterForTask } from '../../src/config/repos.js';
import { getTask } from '../../src/store/tasks.js';
import { fileScopes, type FileScope } from '../../src/config/scope-verdict.js';
import type { Db } from '../../src/store/db.js';
import { loadSnapshot } from '../../src/store/snapshots.js';
import { latestPrHeadOfTask } from '../../src/store/pull-requests.js';

/** A patch larger than this is cut (the page stays responsive; the full diff is one git command away). */
const MAX_PATCH = 400_000;
const SHA = /^[0-9a-f]{7,64}$/;

export interface DiffFile {
  path: string;
  status: 'added' | 'deleted' | 'modified' | 'renamed' | 'binary';
  additions: number;
  deletions: number;
  scope: FileScope;
  patch: string;
  truncated: boolean;
}

export interface TaskDiff {
  schema: 'oxi.diff.v1';
  task: string;
  base: string | null;
  head: string | null;
  /** Where the shas came from: the task's context, its PR row, or the task ref in the main clone. */
  source: 'context' | 'pr' | 'ref' | 'none';
  files: DiffFile[];
  /** Why there is no diff (no head shipped yet, the commits are gone…). */
  note?: string;
}

function contextShas(db: Db, taskId: string): { base: string | null; head: string | null } {
  const snap = loadSnapshot(db, `task:${taskId}`) as { context?: { baseSha?: unknown; headSha?: unknown } } | undefined;
  const pick = (v: unknown) => (typeof v === 'string' && SHA.test(v) ? v : null);
  return { base: pick(snap?.context?.baseSha), head: pick(snap?.context?.headSha) };
}

async function shas(db: Db, adapter: Adapter, taskId: string): Promise<{ base: string | null; head: string | null; source: TaskDiff['source'] }> {
  const repo = adapter.repo.path;
  const ctx = contextShas(db, taskId);
  let head = ctx.head;
  let source: TaskDiff['source'] = head ? 'context' : 'none';
  if (!head) {
    const prHead = latestPrHeadOfTask(db, taskId);
    if (prHead && SHA.test(prHead)) (head = prHead), (source = 'pr');
  }
  if (!head) {
    head = (await resolveCommit(repo, taskRef(taskId))) ?? null;
    if (head) source = 'ref';
  }
  if (!head) return { base: null, head: null, source: 'none' };
  let base = ctx.base;
  if (!base || !(await resolveCommit(repo, base))) {
    const r = await gitRun(repo, ['merge-base', `refs/heads/${adapter.repo.mainBranch}`, head], { ok: [0, 1, 128] });
    base = r.exitCode === 0 ? r.stdout.trim() : null;
  }
  return { base, head, source };
}

/** Splits `git diff` output into per-file patches, keyed by the b/ path (a/ for a deletion). */
export function splitPatch(patch: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = patch.split(/^(?=diff --git )/m).filter((p) => p.startsWith('diff --git '));
  for (const part of parts) {
    const plus = /^\+\+\+ b\/(.+)$/m.exec(part)?.[1];
    const minus = /^--- a\/(.+)$/m.exec(part)?.[1];
    const header = /^diff --git a\/(.+?) b\/(.+)$/m.exec(part);
    const path = plus ?? minus ?? header?.[2];
    if (path) out.set(path, part);
  }
  return out;
}

function statusOf(patch: string, added: string, deleted: string): DiffFile['status'] {
  if (added === '-' && deleted === '-') return 'binary';
  if (/^new file mode/m.test(patch)) return 'added';
  if (/^deleted file mode/m.test(patch)) return 'deleted';
  if (/^rename from/m.test(patch)) return 'renamed';
  return 'modified';
}

export async function taskDiff(db: Db, engineAdapter: Adapter, taskId: string): Promise<TaskDiff> {
  // The task's own repository (with `repos`): its clone, main branch and scope policy.
  const adapter = adapterForTask(engineAdapter, getTask(db, taskId) ?? taskId);
  const { base, head, source } = await shas(db, adapter, taskId);
  const empty = (note: string): TaskDiff => ({ schema: 'oxi.diff.v1', task: taskId, base, head, source, files: [], note });
  if (!head) return empty('No head shipped yet: the diff appears once the worker\'s branch is shipped.');
  if (!base) return empty(`The base of ${head.slice(0, 12)} could not be found in the main clone.`);
  const repo = adapter.repo.path;
  if (!(await resolveCommit(repo, head))) return empty(`The head ${head.slice(0, 12)} is not in the main clone (pruned, or kept on a remote host only).`);
  const range = `${base}...${head}`;
  const numstat = await git(repo, ['diff', '--numstat', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', range]);
  const patch = (await gitRun(repo, ['diff', '--no-color', '--no-renames', '--no-ext-diff', '--no-textconv', range])).stdout;
  const patches = splitPatch(patch);
  const rows = numstat.split('\0').filter(Boolean).map((r) => r.split('\t'));
  const scopes = fileScopes(adapter, rows.map((r) => r[2]));
  const files = rows.map(([added, deleted, path]): DiffFile => {
    const p = patches.get(path) ?? '';
    return {
      path,
      status: statusOf(p, added, deleted),
      additions: Number(added) || 0,
      deletions: Number(deleted) || 0,
      scope: scopes.get(path)!,
      patch: p.length > MAX_PATCH ? p.slice(0, MAX_PATCH) : p,
      truncated: p.length > MAX_PATCH,
    };
  });
  return { schema: 'oxi.diff.v1', task: taskId, base, head, source, files };
}
