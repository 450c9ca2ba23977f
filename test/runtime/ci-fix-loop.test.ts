/**
 * Red CI → fix → green, end to end, on the fake GitHub and on the local forge. The scripted worker's first
 * attempt writes a bug the project's own test suite catches; its fix step writes the corrected file and
 * refuses to run unless its prompt carries the failing assertion. CI is never told the answer: it runs the
 * adapter's checks command on the pushed commit (GitHub) or in the worktree (local forge).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSnapshot } from '../../src/store/snapshots.js';
import { runChecksOnCommit, type CiRun } from '../helpers/ci-from-checks.js';
import { engineProject } from '../helpers/engine-project.js';
import { gitSync } from '../helpers/git-repo.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TASK = 'T0-101';
const BRANCH = 'oxi/t0-101';
const BUGGY = 'export function double(x) {\n  return x * 3;\n}\n';
const FIXED = 'export function double(x) {\n  return x * 2;\n}\n';
/** What node's assert prints for double(3) = 9 against 6: only a real run of the suite on the bug says it. */
const FAILURE_TEXT = '9 !== 6';

/** First attempt: the bug (with the item's own test, which catches it); fix 1: the corrected file, given the failure. */
function scriptTheBugAndItsFix(script: { tasks: Record<string, Record<string, unknown>> }) {
  const task = script.tasks[TASK];
  const files = task.files as Record<string, string>;
  task.files = { ...files, 'src/double.js': BUGGY };
  task.fixes = [{ files: { 'src/double.js': FIXED }, feedbackIncludes: FAILURE_TEXT, commitMessage: `${TASK}: fix double` }];
}

type Project = Awaited<ReturnType<typeof engineProject>>;

/** The prompt the worker of fix `fix` was started with, as its stream recorded it. */
function workerPrompt(t: Project, fix: number): string | undefined {
  const stream = join(t.adapter.paths.logs, TASK, `worker-a0-f${fix}.ndjson`);
  if (!existsSync(stream)) return undefined;
  const events = readFileSync(stream, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; message?: { content?: unknown } });
  const prompt = events.find((e) => e.type === 'user' && typeof e.message?.content === 'string');
  return prompt?.message?.content as string | undefined;
}

/** Kinds of the task's ledger rows, in order. */
function ledger(t: Project): string[] {
  return (t.db.prepare('SELECT kind FROM event WHERE task = ? ORDER BY id').all(TASK) as Array<{ kind: string }>).map((r) => r.kind);
}

/** The same story, whatever the forge: what the task went through and what its worker was told. */
function expectRedFixGreen(t: Project, checksFailureLine: RegExp) {
  const [row] = t.tasks();
  expect(row).toMatchObject({ id: TASK, status: 'merged', reason: null });
  expect((t.db.prepare('SELECT attempt FROM tasks WHERE id = ?').get(TASK) as { attempt: number }).attempt).toBe(0);
  // Fix counter = 1: one trip back to the worker, on the same attempt.
  expect((loadSnapshot(t.db, `task:${TASK}`) as { context: { fix: number; attempt: number } }).context).toMatchObject({ fix: 1, attempt: 0 });

  // The first worker was told nothing; the fixing one got the CI failure in its prompt, the real assertion included.
  expect(workerPrompt(t, 0)).not.toContain('Feedback on the previous attempt');
  const fixPrompt = workerPrompt(t, 1);
  expect(fixPrompt).toContain('Feedback on the previous attempt:\nChecks failed:');
  expect(fixPrompt).toMatch(checksFailureLine);
  expect(fixPrompt).toContain(FAILURE_TEXT);
  expect(existsSync(join(t.adapter.paths.logs, TASK, 'worker-a0-f2.ndjson'))).toBe(false);

  // The whole ledger of the task, in order: each transition, then the notes of the effect that caused it.
  expect(ledger(t)).toEqual([
    'task.planning', 'task.waiting', 'spend',
    'task.provisioning', 'task.working', 'task.shipping', 'spend', 'agent.session',
    'task.pr_open', 'task.checks', 'pr.opened',
    'task.rejected', 'task.waiting', 'checks.failure', 'ci.issue',
    'task.provisioning', 'task.working', 'task.shipping', 'spend', 'agent.session',
    'task.pr_open', 'task.checks', 'pr.adopted',
    'task.reviewing', 'checks.success',
    'task.merging', 'spend', 'critic.approve',
    'task.merged', 'auto_merge.merged',
  ]);
  // The CI issue names the failed check and the assertion, for the brief and the dashboard.
  const issue = t.events('ci.issue').find((e) => e.task === TASK)!;
  expect(JSON.parse(issue.payload).failed.join('\n')).toMatch(/fail/i);
}

describe('red CI → fix → green, end to end', () => {
  it('GitHub: the first PR goes red on CI run from the pushed files, the fix lands on the same PR, CI goes green, one merge', { timeout: 180_000 }, async () => {
    const t = await engineProject({ tasks: 1, forge: 'github', cleanups, script: scriptTheBugAndItsFix });
    const gh = t.gh!;
    const runs: CiRun[] = [];
    gh.ci = ({ sha }) => runChecksOnCommit({ bare: gh.o.bare, sha, command: t.adapter.checks.command, runs });

    const exit = await t.run();
    expect(exit.code, exit.reason).toBe(0);
    expectRedFixGreen(t, /check test: failure\n {2}node --test failed \(exit 1\)/);

    // Exactly one PR, merged once, by oxi, from the branch that got both pushes.
    const pulls = [...gh.pulls.values()];
    expect(pulls.map((p) => ({ head: p.head, merged: p.merged, by: p.mergedBy }))).toEqual([{ head: BRANCH, merged: true, by: 'oxi-bot' }]);
    expect(gh.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/merge') && r.status === 200)).toHaveLength(1);
    expect(gh.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'))).toHaveLength(1);
    // CI ran twice, on the pushed commits: red on the bug, green on the fix, which is the bug's child on the same branch.
    expect(runs.map((r) => r.outcome)).toEqual(['failure', 'success']);
    expect(runs[0].output).toContain(FAILURE_TEXT);
    expect(gh.git(['rev-parse', `${runs[1].sha}^`])).toBe(runs[0].sha);
    expect(pulls[0].headSha).toBe(runs[1].sha);
    // GitHub's main has the fixed code, and its suite passes there.
    expect(gh.git(['show', 'main:src/double.js'])).toBe(FIXED.trimEnd());
    expect((await runChecksOnCommit({ bare: gh.o.bare, sha: gh.git(['rev-parse', 'main']), command: t.adapter.checks.command })).outcome).toBe('success');
    expect(t.events('auto_merge.merged').map((e) => e.task)).toEqual([TASK]);
    expect(t.events('pr.adopted').map((e) => JSON.parse(e.payload).pr)).toEqual([pulls[0].number]);
  });

  it('local forge: the checks command fails in the worktree, the fix is a new commit on the same PR, which merges green', { timeout: 180_000 }, async () => {
    const t = await engineProject({ tasks: 1, forge: 'local', cleanups, script: scriptTheBugAndItsFix });
    const exit = await t.run();
    expect(exit.code, exit.reason).toBe(0);
    expectRedFixGreen(t, /\[oxi\] checks failed: exit code 1/);

    const prs = t.db.prepare('SELECT number, branch, state, head_sha, checks, checks_sha FROM pull_request').all() as Array<Record<string, unknown>>;
    expect(prs).toEqual([expect.objectContaining({ branch: BRANCH, state: 'merged', checks: 'success' })]);
    expect(prs[0].checks_sha).toBe(prs[0].head_sha);
    // The PR's head is the fix on top of the bug: two commits on one branch, squashed into one on main.
    const head = String(prs[0].head_sha);
    expect(gitSync(t.p.dir, ['show', `${head}^:src/double.js`])).toBe(BUGGY.trimEnd());
    expect(gitSync(t.p.dir, ['show', 'main:src/double.js'])).toBe(FIXED.trimEnd());
    expect(gitSync(t.p.dir, ['log', '--format=%s', 'main']).split('\n').filter((s) => s.startsWith(`${TASK}:`))).toHaveLength(1);
    expect(t.events('auto_merge.merged').map((e) => e.task)).toEqual([TASK]);
  });
});
