/**
 * The embedded forge: pull requests are rows in SQLite, the repository is a local git repo, checks are a local
 * command, merges are squash merges onto the base branch. Every call reconciles with git and the rows first.
 */
import { execa } from 'execa';
import { ForgeError } from '../../src/errors.js';
import type { ChecksResult, Forge, MergeResult, OpenPrInput, PullRequest } from '../../src/ports.js';
import type { Db } from '../../src/store/db.js';
import {
  addPrComment,
  closePrRow,
  getPrRow,
  openOrAdoptPr,
  openPrRows,
  prComments,
  prRowForBranch,
  recordChecks,
  recordMerge,
  recordMergedExternally,
  type PrRow,
} from '../../src/store/pull-requests.js';
import { branchSha, changedFiles, git, headSha, isAncestor, listWorktrees, squashMerge } from '../git/git.js';

export interface LocalForgeOptions {
  db: Db;
  /** The main clone. */
  repo: string;
  mainBranch: string;
  /** argv of the checks, run in the PR's worktree; e.g. ['npm', 'test']. */
  checksCommand: string[];
  checksTimeoutMs: number;
  /** The whole environment of the checks (already whitelisted); inherits oxi's when absent. */
  env?: Record<string, string>;
  now: () => number;
  /** With several repositories: this forge's repository name (it sees only PRs of tasks `<repoName>/<id>`). */
  repoName?: string;
  /** deleteBranch touches only branches starting with this. Default 'oxi/'. */
  branchPrefix?: string;
  /**
   * Confines the checks like an agent (contract 3.7): they run the change's own code, so they get the agent's
   * sandbox with the checkout as the only writable path. Returns the argv to run; absent, the checks run as given.
   */
  sandbox?: (argv: readonly string[], cwd: string, env: Record<string, string>) => Promise<string[]>;
}

/** Checks logs keep their head and (mostly) their tail: failures print last. */
const LOG_HEAD = 16 * 1024;
const LOG_TAIL = 48 * 1024;
const KILL_GRACE_MS = 2000;

function toPr(row: PrRow): PullRequest {
  return {
    number: row.number,
    task: row.task,
    branch: row.branch,
    base: row.base,
    title: row.title,
    headSha: row.head_sha,
    state: row.state,
    checks: row.checks,
    ...(row.checks_sha ? { checksSha: row.checks_sha } : {}),
    ...(row.merge_sha ? { mergeSha: row.merge_sha } : {}),
  };
}

export function truncateLog(log: string): string {
  if (log.length <= LOG_HEAD + LOG_TAIL) return log;
  const dropped = log.length - LOG_HEAD - LOG_TAIL;
  return `${log.slice(0, LOG_HEAD)}\n… [${dropped} characters cut] …\n${log.slice(-LOG_TAIL)}`;
}

export class LocalForge implements Forge {
  readonly kind = 'local';
  private readonly branchPrefix: string;

  constructor(private readonly options: LocalForgeOptions) {
    this.branchPrefix = options.branchPrefix ?? 'oxi/';
    if (this.branchPrefix === '') {
      throw new ForgeError('Expected a non-empty branchPrefix for the local forge; got "".', {
        fix: 'Pass the prefix of the branches oxi owns, e.g. "oxi/": with "" deleteBranch could delete any branch.',
      });
    }
    if (options.checksCommand.length === 0) {
      throw new ForgeError('Expected a checks command (argv) for the local forge; got an empty list.', {
        fix: 'Configure the checks command, e.g. ["npm", "test"].',
      });
    }
  }

  private row(number: number): PrRow | undefined {
    return getPrRow(this.options.db, number);
  }

  private mustRow(number: number): PrRow {
    const row = this.row(number);
    if (!row) {
      throw new ForgeError(`Expected pull request #${number} in the local forge; there is none.`, {
        fix: 'List the pull requests (oxi status) and use an existing number.',
      });
    }
    return row;
  }

  async openPr(input: OpenPrInput): Promise<PullRequest & { adopted: boolean }> {
    if (!(await branchSha(this.options.repo, input.branch))) {
      throw new ForgeError(`Expected branch ${input.branch} in ${this.options.repo} to open a pull request; it does not exist.`, {
        fix: 'Push or create the branch (ship the task) before opening its pull request.',
      });
    }
    const { row, adopted } = openOrAdoptPr(this.options.db, input, this.options.now(), this.options.repoName);
    return { ...toPr(row), adopted };
  }

  async getPr(number: number): Promise<PullRequest | undefined> {
    const row = this.row(number);
    return row && toPr(row);
  }

  /** The branch's open PR, else its newest merged one, else its newest closed one. */
  async findPrForBranch(branch: string): Promise<PullRequest | undefined> {
    const row = prRowForBranch(this.options.db, branch, this.options.repoName);
    return row && toPr(row);
  }

  async listOpenPrs(): Promise<Array<PullRequest & { files: string[] }>> {
    const rows = openPrRows(this.options.db, this.options.repoName);
    const out: Array<PullRequest & { files: string[] }> = [];
    for (const row of rows) {
      const head = (await branchSha(this.options.repo, row.branch)) ?? row.head_sha;
      out.push({ ...toPr(row), files: await changedFiles(this.options.repo, `refs/heads/${row.base}`, head) });
    }
    return out;
  }

  /** Runs the checks on the worktree's HEAD, unless results for that exact commit are already recorded. */
  async runChecks(pr: PullRequest, worktree: string): Promise<ChecksResult> {
    const row = this.mustRow(pr.number);
    const sha = await headSha(worktree);
    if (row.checks_sha === sha && (row.checks === 'success' || row.checks === 'failure')) {
      return { state: row.checks, sha, log: row.checks_log ?? '' };
    }
    const { state, log } = await this.execChecks(worktree);
    recordChecks(this.options.db, pr.number, { state, sha, log }, this.options.now());
    return { state, sha, log };
  }

  private async execChecks(worktree: string): Promise<{ state: ChecksResult['state']; log: string }> {
    const argv = this.options.sandbox ? await this.options.sandbox(this.options.checksCommand, worktree, this.options.env ?? {}) : this.options.checksCommand;
    const [file, ...args] = argv;
    const timeoutMs = this.options.checksTimeoutMs;
    // Own process group, so a timeout (and cleanup) reaches the test runner's children too.
    const child = execa(file, args, {
      cwd: worktree,
      all: true,
      reject: false,
      stdin: 'ignore',
      detached: true,
      ...(this.options.env ? { env: this.options.env, extendEnv: false } : {}),
    });
    let timedOut = false;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        /* the group is already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
    }, timeoutMs);
    const result = await child;
    clearTimeout(timer);
    killGroup('SIGKILL'); // background processes the checks left behind
    if (result.exitCode === undefined && !timedOut && result.signal === undefined) {
      throw new ForgeError(`Expected to run the checks command ${JSON.stringify(this.options.checksCommand)} in ${worktree}; it could not start: ${result.message}`, {
        fix: 'Install the program or fix the checks command in the configuration.',
      });
    }
    const output = String(result.all ?? '');
    if (timedOut) return { state: 'failure', log: truncateLog(`${output}\n[oxi] checks timed out after ${timeoutMs} ms and were killed.\n`) };
    const state = result.exitCode === 0 ? 'success' : 'failure';
    // 127 is a shell's "command not found": the checks command is broken, not the change.
    const notFound = result.exitCode === 127 ? ' (command not found: fix checks.command in the adapter; `oxi doctor` checks it)' : '';
    const tail = state === 'failure' ? `\n[oxi] checks failed: ${result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`}${notFound}.\n` : '';
    return { state, log: truncateLog(output + tail) };
  }

  async merge(pr: PullRequest, expectedHeadSha: string, message: string): Promise<MergeResult> {
    const row = this.mustRow(pr.number);
    if (row.state === 'merged') return { outcome: 'already_merged', ...(row.merge_sha ? { mergeSha: row.merge_sha } : {}) };
    if (row.state === 'closed') return { outcome: 'closed', detail: `pull request #${row.number} is closed` };
    const { repo } = this.options;
    const head = (await branchSha(repo, row.branch)) ?? expectedHeadSha;
    // Merged by someone else (a human's git merge, a fast-forward): the branch is already in base.
    if (await isAncestor(repo, head, await headSha(repo, `refs/heads/${row.base}`))) {
      this.markMergedExternally(row.number, head);
      return { outcome: 'already_merged', mergeSha: head, detail: `${row.branch} is already contained in ${row.base}` };
    }
    const result = await squashMerge({ repo, branch: row.branch, base: row.base, expectedHead: expectedHeadSha, message });
    if (result.outcome === 'merged' || result.outcome === 'already_merged') {
      recordMerge(this.options.db, row.number, result.mergeSha ?? null, expectedHeadSha, this.options.now());
    }
    return { outcome: result.outcome, ...(result.mergeSha ? { mergeSha: result.mergeSha } : {}), ...(result.detail ? { detail: result.detail } : {}) };
  }

  /** Adds a comment; a retry repeating the latest comment verbatim adds nothing. */
  async comment(prNumber: number, body: string): Promise<void> {
    this.mustRow(prNumber);
    addPrComment(this.options.db, prNumber, body, this.options.now());
  }

  comments(prNumber: number): Array<{ at: number; body: string }> {
    return prComments(this.options.db, prNumber);
  }

  /** Deletes one of oxi's branches; a branch that is already gone is fine. Refuses any other branch. */
  async deleteBranch(branch: string): Promise<void> {
    const { repo, mainBranch } = this.options;
    if (!branch.startsWith(this.branchPrefix) || branch === mainBranch) {
      throw new ForgeError(`Expected a branch starting with "${this.branchPrefix}" to delete; got "${branch}", which oxi does not own.`, {
        fix: 'Delete branches oxi did not create yourself (git branch -D).',
      });
    }
    if (!(await branchSha(repo, branch))) return;
    const holder = (await listWorktrees(repo)).find((w) => w.branch === `refs/heads/${branch}`);
    if (holder) {
      throw new ForgeError(`Expected branch ${branch} to be checked out nowhere before deleting it; the worktree ${holder.path} has it.`, {
        fix: `Remove that worktree first (removeWorktree, or git -C ${repo} worktree remove ${holder.path}).`,
      });
    }
    await git(repo, ['branch', '-D', branch]);
  }

  /** Closes an open PR (no-op if it is not open). */
  closePr(number: number): void {
    this.mustRow(number);
    closePrRow(this.options.db, number, this.options.now());
  }

  /** Records that a PR reached base by other means (no-op if it is already merged). */
  markMergedExternally(number: number, mergeSha?: string): void {
    this.mustRow(number);
    recordMergedExternally(this.options.db, number, mergeSha ?? null, this.options.now());
  }
}
