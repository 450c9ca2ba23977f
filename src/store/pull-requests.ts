import type { OpenPrInput } from '../ports.js';
/** The embedded forge's tables: `pull_request` and `pull_request_comment`. */
import { immediate, type Db } from './db.js';

export type PrState = 'open' | 'merged' | 'closed';

export interface PrRow {
  number: number;
  task: string;
  branch: string;
  base: string;
  title: string;
  body: string;
  head_sha: string;
  state: PrState;
  checks: 'pending' | 'success' | 'failure';
  checks_sha: string | null;
  checks_log: string | null;
  merge_sha: string | null;
  created_at: number;
  updated_at: number;
}

/** What opening a pull request records: the forge port's input. */
export type NewPr = OpenPrInput;

export function getPrRow(db: Db, number: number): PrRow | undefined {
  return db.prepare('SELECT * FROM pull_request WHERE number = ?').get(number) as PrRow | undefined;
}

/**
 * The branch's open PR (its head moved to `input.headSha`), else its newest merged one — adopted;
 * else a new open PR. One transaction: two openers of one branch never make two PRs.
 */
export function openOrAdoptPr(db: Db, input: NewPr, at: number, repo?: string): { row: PrRow; adopted: boolean } {
  return immediate(db, () => {
    const existing = db
      .prepare(`SELECT * FROM pull_request WHERE branch = ? AND state IN ('open', 'merged') AND ${OF_REPO}
                ORDER BY CASE state WHEN 'open' THEN 0 ELSE 1 END, number DESC LIMIT 1`)
      .get(input.branch, ...ofRepo(repo)) as PrRow | undefined;
    if (existing) {
      if (existing.state === 'open' && existing.head_sha !== input.headSha) {
        db.prepare('UPDATE pull_request SET head_sha = ?, updated_at = ? WHERE number = ?').run(input.headSha, at, existing.number);
        existing.head_sha = input.headSha;
      }
      return { row: existing, adopted: true };
    }
    const { lastInsertRowid } = db
      .prepare(`INSERT INTO pull_request (task, branch, base, title, body, head_sha, state, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)`)
      .run(input.task, input.branch, input.base, input.title, input.body, input.headSha, at, at);
    return { row: getPrRow(db, Number(lastInsertRowid))!, adopted: false };
  });
}

/** The branch's open PR, else its newest merged one, else its newest closed one. */
export function prRowForBranch(db: Db, branch: string, repo?: string): PrRow | undefined {
  return db
    .prepare(`SELECT * FROM pull_request WHERE branch = ? AND ${OF_REPO}
              ORDER BY CASE state WHEN 'open' THEN 0 WHEN 'merged' THEN 1 ELSE 2 END, number DESC LIMIT 1`)
    .get(branch, ...ofRepo(repo)) as PrRow | undefined;
}

export function openPrRows(db: Db, repo?: string): PrRow[] {
  return db.prepare(`SELECT * FROM pull_request WHERE state = 'open' AND ${OF_REPO} ORDER BY number`).all(...ofRepo(repo)) as PrRow[];
}

/**
 * With several repositories, two local forges share this table and may both have a branch `oxi/t0-1`:
 * each sees only the PRs of its own tasks (ids `<repo>/<id>`). No repository given: every row, as before.
 */
const OF_REPO = `(? IS NULL OR substr(task, 1, length(?)) = ?)`;
function ofRepo(repo: string | undefined): Array<string | null> {
  const prefix = repo === undefined ? null : `${repo}/`;
  return [prefix, prefix, prefix];
}

export function recordChecks(db: Db, number: number, checks: { state: PrRow['checks']; sha: string; log: string }, at: number): void {
  db.prepare('UPDATE pull_request SET checks = ?, checks_sha = ?, checks_log = ?, updated_at = ? WHERE number = ?').run(
    checks.state,
    checks.sha,
    checks.log,
    at,
    number,
  );
}

/** A merge oxi made: the PR is merged at `mergeSha` with the head it merged. */
export function recordMerge(db: Db, number: number, mergeSha: string | null, headSha: string, at: number): void {
  db.prepare(`UPDATE pull_request SET state = 'merged', merge_sha = ?, head_sha = ?, updated_at = ? WHERE number = ?`).run(mergeSha, headSha, at, number);
}

/** A PR that reached base by other means (no-op if it is already merged). */
export function recordMergedExternally(db: Db, number: number, mergeSha: string | null, at: number): void {
  db.prepare(`UPDATE pull_request SET state = 'merged', merge_sha = ?, updated_at = ? WHERE number = ? AND state != 'merged'`).run(mergeSha, at, number);
}

/** Closes an open PR (no-op if it is not open). */
export function closePrRow(db: Db, number: number, at: number): void {
  db.prepare(`UPDATE pull_request SET state = 'closed', updated_at = ? WHERE number = ? AND state = 'open'`).run(at, number);
}

/** Adds a comment; a retry repeating the latest comment verbatim adds nothing. */
export function addPrComment(db: Db, pr: number, body: string, at: number): void {
  immediate(db, () => {
    const last = db.prepare('SELECT body FROM pull_request_comment WHERE pr = ? ORDER BY id DESC LIMIT 1').get(pr) as { body: string } | undefined;
    if (last?.body === body) return;
    db.prepare('INSERT INTO pull_request_comment (pr, at, body) VALUES (?, ?, ?)').run(pr, at, body);
  });
}

export function prComments(db: Db, pr: number): Array<{ at: number; body: string }> {
  return db.prepare('SELECT at, body FROM pull_request_comment WHERE pr = ? ORDER BY id').all(pr) as Array<{ at: number; body: string }>;
}

/** The dashboard's PR detail: the row with the checks log's last 4,000 characters. */
export function prDetail(db: Db, number: number): Record<string, unknown> | undefined {
  return db
    .prepare(
      'SELECT number, task, branch, base, title, state, checks, head_sha, merge_sha, created_at, updated_at, substr(checks_log, -4000) AS checks_log FROM pull_request WHERE number=?',
    )
    .get(number) as Record<string, unknown> | undefined;
}

/** The head of a task's newest pull request (the dashboard's diff when the task recorded none). */
export function latestPrHeadOfTask(db: Db, taskId: string): string | null {
  const row = db.prepare('SELECT head_sha FROM pull_request WHERE task=? ORDER BY number DESC LIMIT 1').get(taskId) as { head_sha: string | null } | undefined;
  return row?.head_sha ?? null;
}
