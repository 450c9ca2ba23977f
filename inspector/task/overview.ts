/**
 * What a task's review tab shows: the plan, every critic verdict with its reasons, the checks
 * (each run, the first failure picked out of the log, the log itself) and the cost per role.
 */
import type { Db } from '../../src/store/db.js';
import { reviewEventsOfTask } from '../../src/store/ledger-queries.js';
import { getPrRow } from '../../src/store/pull-requests.js';
import { currentTriage, latestTriage } from '../../src/store/inference.js';
import type { TaskRow } from '../../src/store/tasks.js';
import { sanitize } from '../sanitize.js';

const MAX_LOG = 200_000;
// Lines test runners print for a failure (vitest/jest, mocha, node:test/TAP, pytest, go, cargo, generic).
const FAILURE = /(^|\s)(FAIL|FAILED|✗|✘|×|not ok\b|AssertionError|Error:|--- FAIL|panicked at|failures?:)/;

const PASS = /^\s*(ok\b|✓|✔|PASS\b|--- PASS|test .* \.\.\. ok$)/;

/** The first failing test in a checks log and a few lines after it, or null when none is recognisable. */
export function firstFailure(log: string): string | null {
  const lines = log.split('\n');
  const i = lines.findIndex((l) => FAILURE.test(l));
  if (i < 0) return null;
  // The failure and its explanation: up to the next passing test, a blank line, or 8 lines.
  const end = lines.findIndex((l, j) => j > i && (PASS.test(l) || l.trim() === ''));
  return lines.slice(i, Math.min(end < 0 ? lines.length : end, i + 8)).join('\n').trim();
}

const parse = (s: string) => {
  try {
    return JSON.parse(s) as Record<string, unknown>;
  } catch {
    return {};
  }
};

function triageOf(db: Db, task: TaskRow): { triage?: string } {
  const summary = currentTriage(latestTriage(db, [task.id]), task);
  return summary === undefined ? {} : { triage: summary };
}

export function taskOverview(db: Db, task: TaskRow) {
  const rows = reviewEventsOfTask(db, task.id);
  const verdicts = rows
    .filter((r) => r.kind === 'critic.approve' || r.kind === 'critic.reject')
    .map((r) => {
      const p = parse(r.payload);
      return { at: r.at, verdict: r.kind.slice('critic.'.length), reasons: (p.reasons as string[]) ?? [], needsHuman: p.needsHuman === true, pr: p.pr ?? null, headSha: p.headSha ?? null };
    });
  const checks = rows.filter((r) => r.kind.startsWith('checks.')).map((r) => ({ at: r.at, state: r.kind.slice('checks.'.length), ...sanitize(parse(r.payload)) as object }));
  const costByRole: Record<string, number> = {};
  for (const r of rows.filter((x) => x.kind === 'spend')) {
    const p = parse(r.payload);
    const role = typeof p.role === 'string' ? p.role : 'other';
    costByRole[role] = Math.round(((costByRole[role] ?? 0) + (Number(p.usd) || 0)) * 10_000) / 10_000;
  }
  const pr = task.pr === null ? undefined : getPrRow(db, task.pr);
  const log = pr?.checks_log ?? '';
  return {
    schema: 'oxi.task-overview.v1',
    task: task.id,
    plan: task.plan ? parse(task.plan) : null,
    verdicts,
    checks: {
      runs: checks,
      state: pr?.checks ?? null,
      firstFailure: log ? firstFailure(log) : null,
      log: log.length > MAX_LOG ? log.slice(-MAX_LOG) : log,
    },
    costByRole,
    costUsd: Math.round(task.cost_usd * 10_000) / 10_000,
    attempts: task.attempt + 1,
    reason: task.reason,
    // Only when there is one (triage.enabled): the page is unchanged otherwise.
    ...triageOf(db, task),
  };
}
