/**
 * What a finished task (or shadow run) leaves on a host: its workspace and refs in the host's clone. This file
 * holds the rule both kinds of host keep and the engine's own machine; an SSH host's side is ssh/remote-janitor.ts
 * (the same rule, decided on the host where its links resolve). Deleted: only a directory at least two levels inside
 * the host's worktrees root (`<root>/<namespace>/<name>`), reached without following a link; never a link, never the clone, never its checked-out
 * or main branch.
 */
import { chmodSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { gitRun } from '../git/git.js';
import { UPSTREAM } from './ssh/remote-git.js';
import type { HostTransport } from '../../src/ports.js';

/** What one removal found, path by path and ref by ref. */
export interface LeftoverReport {
  removed: string[];
  /** Already gone (nothing to do). */
  gone: string[];
  /** Never deleted: outside the worktrees root, a symbolic link, or holding the clone. */
  refused: string[];
  /** Could not be removed this time (kept for the next try). */
  failed: string[];
}

export interface Leftovers {
  /** The host's worktrees root: nothing outside it is deleted. */
  root: string;
  /** The workspace the row names (its `.partial` sibling, left by a cut-off creation, goes too). */
  workspace: string | null;
  /** The host's clone of the task's repository (undefined: none there, so no refs to remove). */
  clone: string | undefined;
  refs: readonly string[];
  mainBranch: string;
}

export function emptyReport(): LeftoverReport {
  return { removed: [], gone: [], refused: [], failed: [] };
}

const real = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

/** The path to delete (its parent resolved, itself not a link), or why not. */
function target(input: Leftovers, path: string): { real: string } | 'gone' | 'refused' {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info) return 'gone';
  const name = basename(path);
  const parent = real(dirname(path));
  const root = real(input.root);
  if (info.isSymbolicLink() || !isAbsolute(path) || name === '.' || name === '..' || !parent || !root) return 'refused';
  const full = join(parent, name);
  const rel = relative(root, full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return 'refused';
  // At least two levels in (<root>/<namespace>/<name>): never a namespace folder holding every task's workspace.
  if (!rel.includes(sep)) return 'refused';
  const clone = input.clone ? real(input.clone) : undefined;
  if (clone && (clone === full || clone.startsWith(full + sep))) return 'refused';
  return { real: full };
}

/** Owner-writable again, every directory under `dir` (links untouched): a tool may leave read-only trees (Go's module cache). */
function makeWritable(dir: string): void {
  chmodSync(dir, 0o700);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) makeWritable(join(dir, e.name));
}

/**
 * Runs a removal script on a host in one round trip bounded by `timeoutMs` and reads its report: `item N` starts item N,
 * `<field> <text>` adds to that item's report, `done N` ends it. An item the script did not finish (cut off by the
 * bound, a missing sh) reports a failure and is tried again next time. Throws only what the transport throws.
 */
export async function runRemovalScript(host: HostTransport, script: string, args: readonly string[], count: number, timeoutMs: number): Promise<LeftoverReport[]> {
  const r = await host.exec(['sh', '-c', script, 'oxi', ...args], { timeoutMs });
  const reports = Array.from({ length: count }, () => emptyReport());
  const finished = new Set<number>();
  let at = -1;
  for (const line of r.stdout.split('\n')) {
    const space = line.indexOf(' ');
    const word = line.slice(0, space);
    const rest = line.slice(space + 1);
    if (word === 'item') at = Number(rest);
    else if (word === 'done') finished.add(Number(rest));
    // Own fields only: a stray line (`constructor x`, from a host's shell profile) is not a report field.
    else if (space > 0 && reports[at] && Object.hasOwn(reports[at], word)) reports[at][word as keyof LeftoverReport].push(rest);
  }
  const why = `(unfinished: exit ${r.exitCode}${r.stderr.trim() ? `, ${r.stderr.trim().split('\n')[0]}` : ''})`;
  reports.forEach((report, i) => finished.has(i) || report.failed.push(why));
  return reports;
}

/**
 * Removes a tree (made owner-writable first if it must be); whether it is gone. Asynchronous: a big workspace
 * (node_modules) never blocks the engine's event loop.
 */
export async function removeTree(path: string): Promise<boolean> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch {
    try {
      makeWritable(path);
      await rm(path, { recursive: true, force: true });
    } catch {
      return false;
    }
  }
  return lstatSync(path, { throwIfNoEntry: false }) === undefined;
}

/** Removes the leftovers on the engine's own machine. */
export async function removeLocalLeftovers(input: Leftovers): Promise<LeftoverReport> {
  const report = emptyReport();
  const paths = input.workspace ? [input.workspace, `${input.workspace}.partial`] : [];
  for (const [i, path] of paths.entries()) {
    const t = target(input, path);
    if (t === 'gone') {
      if (i === 0) report.gone.push(path);
      continue;
    }
    if (t === 'refused') {
      report.refused.push(path);
      continue;
    }
    // A linked worktree (older oxi): the clone forgets it too.
    const linked = lstatSync(join(t.real, '.git'), { throwIfNoEntry: false })?.isFile() && input.clone;
    if (linked) await gitRun(input.clone!, ['worktree', 'remove', '--force', '--force', t.real], { ok: [0, 1, 128] });
    (await removeTree(t.real) ? report.removed : report.failed).push(path);
    if (linked) await gitRun(input.clone!, ['worktree', 'prune'], { ok: [0, 1, 128] });
  }
  if (!input.refs.length || !input.clone || !real(input.clone)) return report;
  const head = (await gitRun(input.clone, ['symbolic-ref', '-q', 'HEAD'], { ok: [0, 1] })).stdout.trim();
  for (const ref of input.refs) {
    // Never the checked-out branch of the clone, nor main, whatever the row says.
    if (ref === head || ref === `refs/heads/${input.mainBranch}` || ref === `refs/remotes/${UPSTREAM}/${input.mainBranch}`) continue;
    if ((await gitRun(input.clone, ['rev-parse', '--verify', '-q', ref], { ok: [0, 1] })).exitCode !== 0) continue;
    const r = await gitRun(input.clone, ['update-ref', '-d', ref], { ok: [0, 1, 128] });
    (r.exitCode === 0 ? report.removed : report.failed).push(ref);
  }
  return report;
}
