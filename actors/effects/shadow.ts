/**
 * Shadow runs (agents.shadow): a sampled worker session is also run on the shadow route, with the same prompt,
 * in a sibling workspace made at the commit the real session starts from, sandboxed like any worker, and never
 * shipped (its branch lives in its own workspace only). It runs beside the real worker, never awaited by it: a
 * shadow that fails or crashes is a recorded result, never the task's. The pair row is claimed before the shadow
 * starts (one per task, attempt and fix), so a restart never starts it twice; one cut off by the engine's end is
 * recorded as interrupted, at the stop or at the next start.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { EffectInput, WorkOutput } from '../../machines/effects.js';
import type { AgentRequest, WorkerLaunch } from '../../src/agents/port.js';
import { checksEnv } from '../../src/agents/phase-env.js';
import { newShadowsHeld } from '../../src/dispatch/budget.js';
import { mkdirPrivate } from '../../src/fs-private.js';
import { appendEvent } from '../../src/store/ledger.js';
import { claimShadowPair, getShadowPairFor, recordRealSide, recordShadowSide, runningShadowPairs, setShadowPid, type ShadowSide } from '../../src/store/shadow.js';
import { execChecksCommand } from '../forges/checks-command.js';
import { resolveCommit, headSha, touchedFiles } from '../git/git.js';
import { namespace, placeOf } from '../hosts/places.js';
import { ensureWorkspace, sanitizeWorkspaceGit } from '../hosts/workspace.js';
import { engineMachine, sandboxOf } from '../sandbox/sandbox.js';
import { clockSleep, hostOf, type EffectDeps } from './deps.js';

type RunAgentInput = EffectInput<'runAgent'>;

/** Whether this session is shadowed: a hash of task, attempt and fix against `sample`, so a restart never re-rolls. */
export function shadowSampled(taskId: string, attempt: number, fix: number, sample: number): boolean {
  const hash = createHash('sha256').update(`${taskId}\u0000${attempt}\u0000${fix}`).digest();
  return hash.readUInt32BE(0) / 2 ** 32 < sample;
}

interface ShadowPlan {
  input: RunAgentInput;
  startSha: string;
  workspace: string;
  launch: WorkerLaunch;
  real: { backend: string; model: string | null };
}

function skipped(deps: EffectDeps, input: RunAgentInput, reason: string): undefined {
  appendEvent(deps.db, { at: deps.clock.now(), actor: `task:${input.taskId}`, kind: 'shadow.skipped', task: input.taskId, payload: { attempt: input.attempt, fix: input.fix, reason } });
  return undefined;
}

/**
 * Decides, before the real session spawns, whether it gets a shadow, and captures the commit both start from.
 * Returns the starter to call once the real session runs, or nothing. Never throws: a shadow is never the task's problem.
 */
export async function prepareShadow(deps: EffectDeps, input: RunAgentInput, request: AgentRequest & { fix: number }, real: WorkerLaunch): Promise<(() => void) | undefined> {
  const route = deps.adapter.agents.shadow;
  if (!route || !deps.agents.shadowLaunch || !shadowSampled(input.taskId, input.attempt, input.fix, route.sample)) return undefined;
  try {
    if (getShadowPairFor(deps.db, { task: input.taskId, attempt: input.attempt, fix: input.fix })) return undefined;
    if (deps.killed?.()) return undefined;
    // Shadows stop first: past the soft cap no new one starts (the real work goes on until the hard cap).
    if (newShadowsHeld(deps.db, deps.clock.now(), deps.adapter.budget)) return skipped(deps, input, 'budget: the daily soft cap is reached');
    const place = placeOf(deps, input.host);
    if (place.remote) return skipped(deps, input, 'the worker runs on an SSH host: shadows run on local hosts only');
    const startSha = await headSha(input.worktree);
    // The sibling workspace borrows the main clone's objects: a start commit only the real workspace holds cannot be shadowed.
    if (!(await resolveCommit(place.mainClone, startSha))) return skipped(deps, input, `the start commit ${startSha} is not in the main clone yet`);
    const workspace = join(deps.adapter.paths.worktreesRoot, `${namespace(deps)}-shadow`, `${input.taskId}-a${input.attempt}-f${input.fix}`);
    const launch = deps.agents.shadowLaunch({ ...request, cwd: workspace });
    const plan: ShadowPlan = { input, startSha, workspace, launch, real: { backend: real.backend, model: real.model ?? null } };
    return () => {
      const running = runShadow(deps, plan).catch(() => undefined);
      deps.track?.(running);
    };
  } catch (error) {
    return skipped(deps, input, `could not prepare: ${(error as Error).message}`);
  }
}

/** The shadow session from its claim to its recorded result; every failure is recorded on the pair, never thrown. */
async function runShadow(deps: EffectDeps, plan: ShadowPlan): Promise<void> {
  const { db, clock, adapter } = deps;
  const { input, launch } = plan;
  const id = claimShadowPair(db, {
    task: input.taskId, attempt: input.attempt, fix: input.fix, startSha: plan.startSha, workspace: plan.workspace, host: input.host,
    realBackend: plan.real.backend, realModel: plan.real.model, shadowBackend: launch.backend, shadowModel: launch.model ?? null, at: clock.now(),
  });
  if (id === undefined) return;
  const record = (side: Omit<ShadowSide, 'at'>) => recordShadowSide(db, id, { ...side, at: clock.now() });
  let release: (() => Promise<void>) | undefined;
  try {
    const ran = await session(deps, plan, id, (r) => (release = r));
    if (ran.interrupted) return record({ status: 'interrupted', outcome: null, error: ran.interrupted, files: null, costUsd: ran.costUsd, checks: null });
    await sanitizeWorkspaceGit(plan.workspace, adapter.repo.path);
    const files = await touchedFiles(plan.workspace, plan.startSha);
    const checks = ran.ok && !stopped(deps) ? (await execChecksCommand(shadowChecks(deps), plan.workspace)).state : 'skipped';
    record({ status: 'done', outcome: ran.outcome, error: ran.error, files, costUsd: ran.costUsd, checks });
  } catch (error) {
    record({ status: 'failed', outcome: null, error: (error as Error).message ?? String(error), files: null, costUsd: 0, checks: null });
  } finally {
    await release?.().catch(() => undefined);
  }
}

/** The engine stops or is killed: a shadow ends first. */
function stopped(deps: EffectDeps): boolean {
  return Boolean(deps.shadowStop?.aborted || deps.killed?.());
}

/** The checks as the local forge's gate runs them: confined on the engine's machine, with the checks' own environment. */
function shadowChecks(deps: EffectDeps) {
  const { adapter } = deps;
  return {
    command: adapter.checks.command,
    timeoutMs: adapter.checks.timeoutMs,
    env: checksEnv(adapter),
    sandbox: async (argv: readonly string[], cwd: string, env: Record<string, string>) =>
      (await sandboxOf(adapter, engineMachine).wrap({ role: 'checks', backend: 'checks', argv, env, workspace: cwd, writable: true, waited: true })).argv,
  };
}

type SessionResult = { ok: boolean; outcome: string; error: string | null; costUsd: number; interrupted?: string };

/** Makes the sibling workspace, starts the confined session detached, and watches it to its end (or the engine's). */
async function session(deps: EffectDeps, plan: ShadowPlan, id: number, onRelease: (r: () => Promise<void>) => void): Promise<SessionResult> {
  const { adapter, clock, db } = deps;
  const { input, launch } = plan;
  const host = hostOf(deps, input.host);
  mkdirPrivate(adapter.paths.worktreesRoot);
  mkdirPrivate(dirname(plan.workspace), { own: true });
  const branch = `${adapter.branches.prefix}shadow/${input.taskId.toLowerCase()}-a${input.attempt}-f${input.fix}`;
  await ensureWorkspace({ mainClone: adapter.repo.path, path: plan.workspace, branch, taskId: `${input.taskId}/shadow-a${input.attempt}-f${input.fix}`, baseSha: plan.startSha, mainBranch: adapter.repo.mainBranch });
  const sandbox = deps.sandboxes?.get(input.host) ?? sandboxOf(adapter, host);
  const confined = await sandbox.wrap({ role: 'worker', backend: launch.backend, argv: launch.argv, env: launch.env, workspace: plan.workspace, writable: true, readOnly: launch.readOnly, waited: false, taskId: `${input.taskId}-shadow` });
  if (confined.network) onRelease(() => confined.network!.release());
  const dir = join(adapter.paths.logs, input.taskId, 'shadow');
  mkdirPrivate(dir);
  const stem = join(dir, `shadow-a${input.attempt}-f${input.fix}`);
  const files = { stream: `${stem}.ndjson`, stderr: `${stem}.stderr.log`, pid: `${stem}.ndjson.pid` };
  if (stopped(deps)) return { ok: false, outcome: 'interrupted', error: null, costUsd: 0, interrupted: 'the engine stopped before the shadow started' };
  const { pid } = await host.spawnDetached(confined.argv, { cwd: plan.workspace, env: launch.env, stdoutFile: files.stream, stderrFile: files.stderr, pidFile: files.pid });
  setShadowPid(db, id, pid);
  const wallMs = adapter.agents.timeouts.wallMinutes * 60_000;
  const startedAt = clock.now();
  const interval = deps.watchIntervalMs ?? 200;
  let timedOut = false;
  while (await host.isAlive(pid)) {
    if (stopped(deps)) {
      // Terminated like a worker's group: recorded first, so a group the engine could not reach goes at the next start.
      await (deps.terminateGroup ? deps.terminateGroup(input.host, pid, input.taskId) : host.killGroup(pid));
      return { ok: false, outcome: 'interrupted', error: null, costUsd: await costSoFar(deps, plan, files.stream), interrupted: deps.killed?.() ? 'the killswitch stopped the shadow' : 'the engine stopped while the shadow ran' };
    }
    if (clock.now() - startedAt > wallMs) {
      await host.killGroup(pid).catch(() => undefined);
      timedOut = true;
      break;
    }
    await clockSleep(clock, interval, deps.shadowStop);
  }
  const outcome = deps.agents.parseWorkerLog(await placeOf(deps, input.host).readStream(files.stream), { backend: launch.backend, ...(launch.model ? { model: launch.model } : {}) });
  const costUsd = outcome?.usage.costUsd ?? 0;
  spend(deps, input.taskId, costUsd);
  if (timedOut) return { ok: false, outcome: 'timed_out', error: `wall-clock timeout (${adapter.agents.timeouts.wallMinutes} min)`, costUsd };
  if (!outcome) return { ok: false, outcome: 'lost', error: 'the shadow exited without a result', costUsd };
  return { ok: outcome.ok, outcome: outcome.ok ? 'ok' : outcome.kind ?? 'failed', error: outcome.ok ? null : outcome.error ?? null, costUsd };
}

/** What an interrupted shadow spent so far, as its stream tells (counted against the budget too). */
async function costSoFar(deps: EffectDeps, plan: ShadowPlan, stream: string): Promise<number> {
  const text = await placeOf(deps, plan.input.host).readStream(stream).catch(() => '');
  const usd = deps.agents.parseWorkerLog(text, { backend: plan.launch.backend, ...(plan.launch.model ? { model: plan.launch.model } : {}) })?.usage.costUsd ?? 0;
  spend(deps, plan.input.taskId, usd);
  return usd;
}

/** Shadow spend is a ledger spend row like any agent's: it counts against the daily caps. */
function spend(deps: EffectDeps, taskId: string, usd: number): void {
  if (usd > 0) appendEvent(deps.db, { at: deps.clock.now(), actor: `task:${taskId}`, kind: 'spend', task: taskId, payload: { usd, role: 'shadow', task: taskId } });
}

/** The worker step with the real side of its session's shadow pair recorded once it ends; nothing about it changes the outcome. */
export function recordingShadow(run: (deps: EffectDeps, input: RunAgentInput, signal: AbortSignal) => Promise<WorkOutput>) {
  return async (deps: EffectDeps, input: RunAgentInput, signal: AbortSignal): Promise<WorkOutput> => {
    const out = await run(deps, input, signal);
    if (deps.adapter.agents.shadow) await recordRealShadowSide(deps, input, out);
    return out;
  };
}

/** The real worker's side of its session's pair, once its run ended (not when it was only stopped). Never throws. */
export async function recordRealShadowSide(deps: EffectDeps, input: RunAgentInput, out: WorkOutput): Promise<void> {
  if (!deps.adapter.agents.shadow || out.error === 'stopped') return;
  try {
    const key = { task: input.taskId, attempt: input.attempt, fix: input.fix };
    const row = getShadowPairFor(deps.db, key);
    if (!row) return;
    const files = await touchedFiles(input.worktree, row.start_sha);
    recordRealSide(deps.db, key, { outcome: out.outcome, files, costUsd: out.costUsd, backend: out.backend ?? row.real_backend, model: row.real_model });
  } catch {
    // The pair keeps its real side empty: the shadow's record never costs the task anything.
  }
}

/**
 * At a start: a shadow recorded as running was cut off by the engine's end (a crash, a stop). Its process group is
 * terminated (recorded first, like a worker's) and the pair is recorded as interrupted, never run again.
 */
export function interruptShadows(deps: Pick<EffectDeps, 'db' | 'clock' | 'terminateGroup' | 'track'>): number {
  const rows = runningShadowPairs(deps.db);
  for (const row of rows) {
    if (row.pid !== null && deps.terminateGroup) {
      const ending = deps.terminateGroup(row.host, row.pid, row.task).catch(() => undefined);
      deps.track?.(ending);
    }
    recordShadowSide(deps.db, row.id, { status: 'interrupted', outcome: null, error: 'the engine ended while the shadow ran', files: null, costUsd: 0, checks: null, at: deps.clock.now() });
  }
  return rows.length;
}
