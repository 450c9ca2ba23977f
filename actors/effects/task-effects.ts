import { untilSwept } from './janitor-sweeping.js';
import { z } from 'zod';
import { closeSourceItem, linkPr } from '../roadmap/source-effects.js';
import type {
  ChecksOutput,
  ClaimOutput,
  CritiqueOutput,
  EffectInput,
  LedgerNote,
  MergeOutput,
  OpenPrOutput,
  Plan,
  PlanOutput,
  ProvisionOutput,
  ShipOutput,
} from '../../machines/effects.js';
import { renderPrompt, templateFor } from '../../src/agents/prompts.js';
import { lessonsText, relevantLessons } from '../../src/memory/file-memory.js';
import { dayStart, spendBetween } from '../../src/store/ledger.js';
import { everDispatched } from '../../src/dispatch/budget.js';
import { getTask } from '../../src/store/tasks.js';
import { branchName, type EffectDeps } from './deps.js';
import { changedFiles, diff, git, trackedFiles } from '../git/git.js';
import { assertReviewedRange } from '../hosts/workspace.js';
import { GitError, SpentThenFailedError } from '../../src/errors.js';
import { localChecksWorktree, placeOf } from '../hosts/places.js';
import { checkMainIntegrity, recordMain } from './main-integrity.js';
import { spendNote } from './run-agent.js';
import { protectedPathsTouched, protectedReason } from '../../src/config/protected-paths.js';
import { scopeCheck } from '../../src/config/scope-verdict.js';
import { isOutage, resetTimeOf, type OutageKind } from '../../machines/outcome.js';
import type { AgentOutcome } from '../../src/ports.js';
import { lastTaskEventOfKinds, taskHasEvent } from '../../src/store/ledger-queries.js';

const planSchema = z.object({
  files_touched: z.array(z.string().min(1)).min(1, 'a plan must name at least one file'),
  tests: z.array(z.string()).default([]),
  dependencies: z.array(z.string()).default([]),
  risk: z.string().default('unknown'),
  summary: z.string().optional(),
});

const verdictSchema = z.object({ verdict: z.enum(['approve', 'reject']), reasons: z.array(z.string()).default([]) });

/** Agents answer in free text; the JSON object is taken from the first `{` to the last `}`. */
function jsonIn(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('no JSON object in the answer');
  return JSON.parse(text.slice(start, end + 1));
}

/** What is left of the task's per-task budget: the cap passed to each agent run. */
function budgetLeft(deps: EffectDeps, taskId: string, spentHere = 0): number {
  return deps.adapter.budget.perTaskUsd - (getTask(deps.db, taskId)?.cost_usd ?? 0) - spentHere;
}

/**
 * Planner: roadmap item + repo context + relevant memory → validated plan. An invalid answer is
 * retried (agents.plannerRetries) with the validation error, then the plan fails: never guessed.
 */
export async function plan(deps: EffectDeps, input: EffectInput<'plan'>, signal?: AbortSignal): Promise<PlanOutput> {
  const { adapter } = deps;
  const lessons = relevantLessons(adapter.memory, `${input.title}\n${input.description}`);
  const files = (await trackedFiles(adapter.repo.path).catch(() => [])).slice(0, 300);
  const facts = { taskId: input.taskId, title: input.title, description: input.description, memory: lessonsText(lessons), files: files.join('\n'), lessons: lessons.map((l) => l.path) };
  let costUsd = 0;
  let problem = '';
  for (let run = 0; run <= adapter.agents.plannerRetries; run++) {
    const left = budgetLeft(deps, input.taskId, costUsd);
    if (left <= 0) return { ok: false, error: `the per-task budget of $${adapter.budget.perTaskUsd} is spent`, costUsd, ledger: spendNote(input, costUsd, 'planner') };
    const retryNote = problem ? `\n\nYour previous answer was not a valid plan (${problem}). Answer with the JSON object only.` : '';
    // Killed (or left planning) while this effect awaited git: no planner starts for a discarded answer.
    signal?.throwIfAborted();
    const out = await deps.agents.complete('planner', {
      taskId: input.taskId,
      attempt: input.attempt,
      cwd: adapter.repo.path,
      prompt: renderPrompt(templateFor(adapter.agents.prompts, 'planner'), facts) + retryNote,
      facts,
      maxBudgetUsd: left,
      signal,
    });
    costUsd += out.usage.costUsd;
    const ledger = [...spendNote(input, costUsd, 'planner', out.usage), ...(lessons.length ? [{ kind: 'memory.lessons', payload: { task: input.taskId, lessons: facts.lessons } }] : [])];
    if (!out.ok) {
      const error = `planner (${out.backend}) failed: ${out.error ?? 'unknown error'}`;
      // An outage is no verdict on the item: the machine runs the planner again, spending nothing.
      const outage = outageFacts(deps, out);
      return { ok: false, error, costUsd, ledger: outage ? [...ledger, outageNote('planner', input.taskId, out)] : ledger, ...outage };
    }
    try {
      const parsed = planSchema.parse(jsonIn(out.text));
      return { ok: true, plan: parsed as Plan, costUsd, ledger };
    } catch (error) {
      problem = (error as Error).message.slice(0, 300);
    }
  }
  return { ok: false, error: `the plan is not valid after ${adapter.agents.plannerRetries + 1} run(s): ${problem}`, costUsd, ledger: spendNote(input, costUsd, 'planner') };
}

export function claimSlot(deps: EffectDeps, input: EffectInput<'claimSlot'>, signal: AbortSignal): Promise<ClaimOutput> {
  // The first slot is where the soft cap bites: a worker session is most of a task's spend (planning
  // is a fraction of it), and a task never dispatched has nothing under way that stopping would waste.
  return deps.pool.claim(input.taskId, input.filesTouched, signal, !everDispatched(deps.db, input.taskId));
}

/** Worktree on the host the slot was granted on (provisioning and the agent always share a host). */
export async function provision(deps: EffectDeps, input: EffectInput<'provision'>): Promise<ProvisionOutput> {
  const branch = branchName(deps.adapter, input.taskId);
  // A task retried while the janitor removes its old workspace would be given that very path: wait for the sweep.
  await untilSwept(deps.db, input.taskId);
  const made = await placeOf(deps, input.host).provision(input.taskId, branch, input.baseSha ?? null);
  return { branch, worktree: made.worktree, baseSha: made.baseSha };
}

export async function ship(deps: EffectDeps, input: EffectInput<'ship'>, signal?: AbortSignal): Promise<ShipOutput> {
  const place = placeOf(deps, input.host);
  // A task restored from before base shas were recorded: its base is where its branch meets main (main may have moved since).
  const baseSha = input.baseSha ?? (await place.unrecordedBase(input.taskId, input.worktree, input.branch));
  const result = await place.ship(
    {
      worktree: input.worktree,
      base: baseSha,
      mainBranch: deps.adapter.repo.mainBranch,
      branch: input.branch,
      policy: deps.adapter.policy.dirtyTree,
      filesTouched: input.filesTouched,
      taskId: input.taskId,
      attempt: input.attempt,
      // What oxi copied in (workspace.files, e.g. a .env) is never the task's change.
      keepOut: deps.adapter.workspace.files.map((f) => f.to),
    },
    signal,
  );
  const refused = result.ledger.find((l) => l.kind.startsWith('ship_recovery.skipped') || l.kind.startsWith('ship_recovery.refused'));
  return {
    headSha: result.headSha,
    baseSha: result.baseSha,
    empty: result.empty,
    refused: result.empty && refused ? `Ship recovery committed nothing (${refused.kind}): ${JSON.stringify(refused.payload)}. Remove stray files or commit your change.` : undefined,
    ledger: result.ledger as LedgerNote[],
  };
}

export async function openPr(deps: EffectDeps, input: EffectInput<'openPr'>): Promise<OpenPrOutput> {
  // prWatcher only watches tasks at their PR: one closed by a human during a fix loop is noticed here, never replaced by a second PR.
  const previous = getTask(deps.db, input.taskId)?.pr;
  const disarmed: LedgerNote[] = [];
  if (previous !== null && previous !== undefined) {
    const before = await deps.forge.getPr(previous);
    if (before?.state === 'closed') return { pr: previous, merged: false, closed: true, ledger: [{ kind: 'pr_watcher.observed', payload: { task: input.taskId, pr: previous, state: 'closed', readOnly: false } }] };
    // Auto-merge armed for an earlier head would merge the new one as soon as its CI passes, before any review: off first.
    if (before?.state === 'open' && before.autoMerge && before.headSha !== input.headSha && deps.forge.disarmAutoMerge) {
      await deps.forge.disarmAutoMerge(before);
      disarmed.push({ kind: 'auto_merge.disarmed', payload: { pr: before.number, reason: 'a new head is pushed: it is reviewed before anything merges it' } });
    }
  }
  // The roadmap source's lines (`Closes #123`): a source that cannot answer costs the PR nothing.
  const sourceLines = deps.roadmap ? await deps.roadmap.prBody(input.taskId).catch(() => '') : '';
  const pr = await deps.forge.openPr({
    task: input.taskId,
    branch: input.branch,
    base: deps.adapter.repo.mainBranch,
    title: `${input.taskId}: ${input.title}`,
    body: `Roadmap item ${input.taskId}.${sourceLines ? `\n\n${sourceLines}` : ''}\n\nPlan:\n\`\`\`json\n${JSON.stringify(input.plan, null, 2)}\n\`\`\``,
    headSha: input.headSha,
  });
  const ledger: LedgerNote[] = [...disarmed, { kind: pr.adopted ? 'pr.adopted' : 'pr.opened', payload: { pr: pr.number } }];
  if (deps.roadmap && pr.state === 'open') ledger.push(...(await linkPr(deps.roadmap, input.taskId, pr, deps.adapter)));
  return { pr: pr.number, merged: pr.state === 'merged', ledger };
}

export async function runChecks(deps: EffectDeps, input: EffectInput<'runChecks'>, signal?: AbortSignal): Promise<ChecksOutput> {
  const pr = await deps.forge.getPr(input.pr);
  if (!pr) throw new Error(`PR #${input.pr} does not exist on the forge`);
  // The local forge checks a fresh checkout of the PR's head: never the worker's workspace (stray files, its git state).
  const where = deps.forge.kind === 'local' ? await localChecksWorktree(deps, pr.task, pr.headSha) : input.worktree;
  const result = await deps.forge.runChecks(pr, where, signal);
  const ledger: LedgerNote[] = [{ kind: `checks.${result.state}`, payload: { pr: pr.number, sha: result.sha } }];
  if (result.state === 'failure') ledger.push(ciIssue(pr.number, result.sha, result.log));
  return { state: result.state, summary: result.log.slice(-4000), ledger };
}

/** Blocked paths reject; sensitive and protected ones force human review (src/config/scope-verdict.ts). */
const scopeOf = (deps: EffectDeps, files: string[]) => scopeCheck(deps.adapter, files);

/** Critic: sees the PR's actual diff and the plan. Garbage or empty output is a rejection, never an approval. */
export async function critique(deps: EffectDeps, input: EffectInput<'critique'>, signal?: AbortSignal): Promise<CritiqueOutput> {
  const pr = await deps.forge.getPr(input.pr);
  if (!pr) throw new Error(`PR #${input.pr} does not exist on the forge`);
  // Reconcile first: a verdict on this very head was bought already (the forge failed after it): post it, do not buy another.
  const earlier = verdictOnRecord(deps, input.taskId, pr.number, pr.headSha);
  if (earlier) return afterVerdict(deps, input.taskId, pr, earlier, { costUsd: 0, spend: [], fresh: false });
  const repo = deps.adapter.repo.path;
  const range = await reviewedRange(deps, input, pr.headSha);
  const files = await changedFiles(repo, range.base, range.head);
  const patch = await diff(repo, range.base, range.head);
  const scope = scopeOf(deps, files);
  const policy = deps.adapter.policy.scope;
  const facts = { taskId: input.taskId, title: input.title, plan: input.plan, diff: patch, changedFiles: files, scope: { allowed: policy.allowed, blocked: policy.blocked, sensitive: policy.sensitive } };
  const prompt = renderPrompt(templateFor(deps.adapter.agents.prompts, 'critic'), facts);
  signal?.throwIfAborted(); // the forge and git reads above took time: no critic for a discarded verdict
  const out = await deps.agents.complete('critic', { taskId: input.taskId, attempt: input.attempt, cwd: repo, prompt, facts, maxBudgetUsd: Math.max(0.01, budgetLeft(deps, input.taskId)), signal });
  // An outage (rate limit, overload, bad key, stall) is no verdict: nothing is posted, the critic runs again on this head.
  const outage = outageFacts(deps, out);
  if (!out.ok && outage) {
    return { verdict: 'none', error: `critic (${out.backend}) met an outage: ${out.error ?? out.kind}`, costUsd: out.usage.costUsd, ...outage, ledger: [...spendNote(input, out.usage.costUsd, 'critic', out.usage), outageNote('critic', input.taskId, out)] };
  }
  return afterVerdict(deps, input.taskId, pr, verdictOf(out, scope, pr), { costUsd: out.usage.costUsd, spend: spendNote(input, out.usage.costUsd, 'critic', out.usage), fresh: true });
}

/**
 * The range a review judges, by full sha (contract 3.7): from the base recorded at provisioning to the head the
 * engine shipped. A PR whose head is not that sha is not reviewed (a name like \`main\` is never resolved here).
 */
async function reviewedRange(deps: EffectDeps, input: { baseSha?: string | null; headSha?: string | null }, prHead: string): Promise<{ base: string; head: string }> {
  const repo = deps.adapter.repo.path;
  const head = input.headSha ?? prHead;
  if (head !== prHead) {
    throw new GitError(`Expected the pull request's head to be the shipped ${head}; it is ${prHead}.`, { fix: 'Something other than oxi pushed to the task branch: the review waits for the next ship.' });
  }
  const main = `refs/heads/${deps.adapter.repo.mainBranch}`;
  const base = input.baseSha ?? (await gitMergeBase(repo, main, head));
  await assertReviewedRange(repo, base, head, main);
  return { base, head };
}

const gitMergeBase = (repo: string, a: string, b: string) => git(repo, ['merge-base', a, b]);

/** An agent run's outage as the task machine reads it (machines/outcome.ts), or undefined for anything else. */
function outageFacts(deps: EffectDeps, out: AgentOutcome): { outage: OutageKind; resetAt?: number } | undefined {
  if (out.ok || !isOutage(out.kind)) return undefined;
  const resetAt = resetTimeOf(out, deps.clock.now());
  return { outage: out.kind, ...(resetAt === undefined ? {} : { resetAt }) };
}

function outageNote(role: 'planner' | 'critic', taskId: string, out: AgentOutcome): LedgerNote {
  return { kind: 'agent.outage', payload: { role, task: taskId, backend: out.backend, model: out.model ?? null, outage: out.kind ?? null, error: out.error ?? null } };
}

/** What the ledger keeps of a verdict: enough to post it again without asking the critic again. */
interface VerdictRecord {
  verdict: 'approve' | 'reject';
  reasons: string[];
  needsHuman: boolean;
  /** Protected paths the change touches: never auto-merged, whatever the policy (src/config/protected-paths.ts). */
  protected: string[];
  pr: number;
  headSha: string;
  /** Whether the verdict's comment reached the PR. */
  commented: boolean;
}

/** The critic's answer read as a verdict (garbage is a rejection), with the scope's own reasons added. */
function verdictOf(out: Awaited<ReturnType<EffectDeps['agents']['complete']>>, scope: ReturnType<typeof scopeOf>, pr: { number: number; headSha: string }): VerdictRecord {
  let verdict: z.infer<typeof verdictSchema>;
  try {
    verdict = out.ok ? verdictSchema.parse(jsonIn(out.text)) : { verdict: 'reject', reasons: [`the critic failed: ${out.error ?? 'unknown error'}`] };
  } catch (error) {
    verdict = { verdict: 'reject', reasons: [`the critic's answer is not a valid verdict (${(error as Error).message.slice(0, 200)}): treated as a rejection`] };
  }
  const reasons = [...verdict.reasons];
  if (scope.protected.length) reasons.push(`${protectedReason(scope.protected)}: a human must review and merge it`);
  if (scope.blocked.length) reasons.push(`blocked paths touched: ${scope.blocked.join(', ')}`);
  if (scope.outside.length) reasons.push(`paths outside the allowed scope: ${scope.outside.join(', ')}`);
  const final = verdict.verdict === 'approve' && !scope.blocked.length && !scope.outside.length ? 'approve' : 'reject';
  return { verdict: final, reasons, needsHuman: scope.sensitive.length > 0 || scope.protected.length > 0, protected: scope.protected, pr: pr.number, headSha: pr.headSha, commented: false };
}

/** The last verdict recorded for this task, if it was given on this PR at this head. */
function verdictOnRecord(deps: EffectDeps, taskId: string, pr: number, headSha: string): VerdictRecord | undefined {
  const row = lastTaskEventOfKinds(deps.db, taskId, ['critic.approve', 'critic.reject']);
  const last = row ? (JSON.parse(row.payload) as Partial<VerdictRecord>) : undefined;
  if (!last || last.pr !== pr || last.headSha !== headSha || (last.verdict !== 'approve' && last.verdict !== 'reject')) return undefined;
  const commented = last.commented === true || taskHasEvent(deps.db, taskId, 'critic.commented', { field: 'headSha', value: headSha });
  return { verdict: last.verdict, reasons: last.reasons ?? [], needsHuman: last.needsHuman === true, protected: last.protected ?? [], pr, headSha, commented };
}

/**
 * The verdict posted on the PR (once) and auto-merge armed on approval. Whether it succeeds or the forge
 * fails part way, the ledger gets the spend and the verdict as it stands (a fresh one: its row; a reused
 * one: a `critic.commented` row once posted), so a retry after pr_backoff posts this verdict, not a new one.
 */
async function afterVerdict(
  deps: EffectDeps,
  taskId: string,
  pr: NonNullable<Awaited<ReturnType<EffectDeps['forge']['getPr']>>>,
  verdict: VerdictRecord,
  { costUsd, spend, fresh }: { costUsd: number; spend: LedgerNote[]; fresh: boolean },
): Promise<CritiqueOutput> {
  let postedNow = false;
  const armNotes: LedgerNote[] = [];
  const notes = (): LedgerNote[] => {
    const verdictNotes: LedgerNote[] = fresh
      ? [{ kind: `critic.${verdict.verdict}`, payload: { ...verdict, commented: verdict.commented || postedNow } }]
      : postedNow ? [{ kind: 'critic.commented', payload: { pr: pr.number, headSha: verdict.headSha } }] : [];
    return [...spend, ...verdictNotes, ...armNotes];
  };
  try {
    if (!verdict.commented) {
      await deps.forge.comment(pr.number, `**oxi critic: ${verdict.verdict}**\n\n${verdict.reasons.map((r) => `- ${r}`).join('\n')}`);
      postedNow = true;
    }
    // Armed for an earlier head, the forge would merge this one by itself: a rejected head, or one that needs a human, turns it off.
    if ((verdict.verdict === 'reject' || verdict.needsHuman) && pr.autoMerge && deps.forge.disarmAutoMerge) {
      await deps.forge.disarmAutoMerge(pr);
      const reason = verdict.protected.length ? protectedReason(verdict.protected) : verdict.needsHuman ? 'the change touches sensitive paths' : 'the critic rejected this head';
      armNotes.push({ kind: 'auto_merge.disarmed', payload: { pr: pr.number, headSha: verdict.headSha, reason } });
    }
    // The approval is what arms the forge's own auto-merge, when the policy would merge it anyway.
    if (verdict.verdict === 'approve' && deps.forge.armAutoMerge && !mergeRefusal(deps, taskId, verdict.needsHuman, verdict.protected)) {
      const armed = await deps.forge.armAutoMerge(pr);
      if (armed.outcome === 'armed' || armed.outcome === 'unavailable') armNotes.push({ kind: `auto_merge.${armed.outcome}`, payload: { pr: pr.number, ...(armed.detail ? { detail: armed.detail } : {}) } });
    }
  } catch (error) {
    const kept = notes();
    if (!kept.length) throw error;
    throw new SpentThenFailedError(error, costUsd, kept);
  }
  return { verdict: verdict.verdict, reasons: verdict.reasons, costUsd, needsHuman: verdict.needsHuman, ledger: notes() };
}

/** One line per failed CI run: what failed, on which head; the task's fix loop gets the full log. */
function ciIssue(pr: number, sha: string, log: string): LedgerNote {
  const failed = log.split('\n').filter((l) => /fail|error|timed out|did not finish/i.test(l)).slice(0, 20);
  return { kind: 'ci.issue', payload: { pr, sha, failed } };
}

/** Why the policy would not merge this task's PR now (protected paths, auto-merge off, sensitive paths, budget), or undefined. */
function mergeRefusal(deps: EffectDeps, taskId: string, needsHuman: boolean, touchedProtected: readonly string[]): string | undefined {
  // First, whatever else holds: the reason a human sees names the path, and no setting of the adapter lifts it.
  if (touchedProtected.length) return protectedReason(touchedProtected);
  if (!deps.adapter.policy.autoMerge) return 'auto-merge is off in the adapter: waiting for a human to merge';
  if (needsHuman) return 'the change touches sensitive paths: waiting for human review';
  const task = getTask(deps.db, taskId);
  if (task && task.cost_usd > deps.adapter.budget.perTaskUsd) return `the task spent $${task.cost_usd.toFixed(2)}, over the per-task cap of $${deps.adapter.budget.perTaskUsd}`;
  const now = deps.clock.now();
  if (spendBetween(deps.db, dayStart(now), now + 1) > deps.adapter.budget.dailyHardUsd) return 'the daily hard budget cap is reached';
  return undefined;
}

/** A refusal is written to the ledger once per task and reason, however often the task asks again. */
function refusalNotes(deps: EffectDeps, taskId: string, pr: number, reason: string): LedgerNote[] {
  const seen = taskHasEvent(deps.db, taskId, 'auto_merge.refused', { field: 'reason', value: reason });
  return seen ? [] : [{ kind: 'auto_merge.refused', payload: { pr, reason } }];
}

/**
 * Auto-merge policy: approved + checks green on this head + mergeable + no sensitive paths +
 * budget → squash merge guarded by the head sha. A PR found already merged is a no-op success.
 */
export async function merge(deps: EffectDeps, input: EffectInput<'merge'>): Promise<MergeOutput> {
  const pr = await deps.forge.getPr(input.pr);
  if (!pr) throw new Error(`PR #${input.pr} does not exist on the forge`);
  if (pr.state === 'merged') return { outcome: 'already_merged', ledger: [{ kind: 'auto_merge.noop_already_merged', payload: { pr: pr.number } }, ...(await closeSourceItem(deps, input.taskId, pr.number))] };
  if (pr.state === 'closed') return { outcome: 'closed' };
  const refuse = (detail: string): MergeOutput => ({ outcome: 'refused', detail, ledger: refusalNotes(deps, input.taskId, pr.number, detail) });
  // Read again from the head about to be merged, not taken from the review's verdict: a restored or resumed task cannot skip it.
  // From the recorded base sha (as reviewed), else main by its full ref: never a name an agent could shadow.
  const base = input.baseSha ?? `refs/heads/${deps.adapter.repo.mainBranch}`;
  const touched = protectedPathsTouched(await changedFiles(deps.adapter.repo.path, base, input.headSha), deps.adapter);
  const refusal = mergeRefusal(deps, input.taskId, input.needsHuman, touched);
  if (refusal) return refuse(refusal);
  let green = pr.checks === 'success' && pr.checksSha === input.headSha;
  // A remote forge knows CI better than our memory of it (which a restart loses).
  if (!green && deps.forge.readChecks && pr.headSha === input.headSha) green = (await deps.forge.readChecks(pr)).state === 'success';
  if (!green) return { outcome: 'head_moved', detail: 'checks are not green for this head' };
  // A human's "request changes" outranks the critic: wait, and prWatcher sends the task back with it.
  if (deps.forge.changesRequested && (await deps.forge.changesRequested(pr))) return refuse('a reviewer requested changes');
  // Only the reviewed range reaches main: the head still descends from the recorded base and brings no other commit.
  await reviewedRange(deps, input, pr.headSha);
  const integrity = await checkMainIntegrity(deps);
  if (!integrity.ok) throw new GitError(`Expected ${deps.adapter.repo.mainBranch} to have moved only by fast-forwards before merging; it did not, and the engine is killed.`, { fix: 'Check what rewrote main, then oxi unkill: the merge runs again.' });
  const result = await deps.forge.merge(pr, input.headSha, `${input.taskId}: ${input.title} (#${pr.number})`);
  if (result.outcome === 'blocked') {
    return refuse(pr.autoMerge ? `waiting for the forge's auto-merge: ${result.detail ?? ''}` : `the forge refused the merge: ${result.detail ?? ''}`);
  }
  const kind = result.outcome === 'merged' ? 'auto_merge.merged' : result.outcome === 'already_merged' ? 'auto_merge.noop_already_merged' : `auto_merge.${result.outcome}`;
  if (result.outcome === 'merged') await recordMain(deps);
  if (result.outcome === 'merged' || result.outcome === 'already_merged') await deps.forge.deleteBranch(pr.branch).catch(() => undefined);
  const closed = result.outcome === 'merged' || result.outcome === 'already_merged' ? await closeSourceItem(deps, input.taskId, pr.number) : [];
  return { outcome: result.outcome, detail: result.detail, ledger: [{ kind, payload: { pr: pr.number, sha: result.mergeSha ?? null } }, ...closed] };
}
