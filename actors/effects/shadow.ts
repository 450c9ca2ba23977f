/**
 * Shadow runs (agents.shadow): a sampled worker session is also run on the shadow route, with the same prompt,
 * in a sibling workspace made at the commit the real session starts from on the worker's own host (the engine's
 * machine or an SSH host: see shadow-site.ts), sandboxed like any worker there, and never shipped (its branch
 * lives in its own workspace only). It runs beside the real worker, never awaited by it: a shadow that fails or
 * crashes is a recorded result, never the task's. The pair row is claimed before the shadow starts (one per task,
 * attempt and fix), so a restart never starts it twice; one cut off by the engine's end is recorded as
 * interrupted, at the stop or at the next start. A running pair is a reservation: the budget gates hold its per-task
 * cap like a task's in flight, and a shadow whose own cap would pass a daily hard cap is skipped (src/dispatch/budget.ts).
 */
import { createHash } from 'node:crypto';
import type { EffectInput, WorkOutput } from '../../machines/effects.js';
import type { AgentRequest, WorkerLaunch } from '../../src/agents/port.js';
import { newShadowsHeld, shadowBudgetRefusal } from '../../src/dispatch/budget.js';
import { appendEvent } from '../../src/store/ledger.js';
import { claimShadowPair, getShadowPairFor, recordRealSide, recordShadowSide, runningShadowPairs, setShadowPid, shadowSpendOf, type ShadowPairRow, type ShadowSide } from '../../src/store/shadow.js';
import { untilSwept } from './janitor-sweeping.js';
import { sandboxOf } from '../sandbox/sandbox.js';
import { clockSleep, depsForTask, type EffectDeps } from './deps.js';
import { shadowSiteOf, type ShadowChecks, type ShadowSite } from './shadow-site.js';

type RunAgentInput = EffectInput<'runAgent'>;

/** Whether this session is shadowed: a hash of task, attempt and fix against `sample`, so a restart never re-rolls. */
export function shadowSampled(taskId: string, attempt: number, fix: number, sample: number): boolean {
  const hash = createHash('sha256').update(`${taskId}\u0000${attempt}\u0000${fix}`).digest();
  return hash.readUInt32BE(0) / 2 ** 32 < sample;
}

interface ShadowPlan {
  input: RunAgentInput;
  site: ShadowSite;
  startSha: string;
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
    // On the worker's host (its own machine or an SSH host), beside the real workspace; one try, the real session never waits for it.
    const site = shadowSiteOf(deps, input);
    const start = await site.startCommit(input.worktree);
    if ('skip' in start) return skipped(deps, input, start.skip);
    const launch = deps.agents.shadowLaunch({ ...request, cwd: site.workspace });
    const plan: ShadowPlan = { input, site, startSha: start.sha, launch, real: { backend: real.backend, model: real.model ?? null } };
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
  const { db, clock } = deps;
  const { input, launch, site } = plan;
  // Its per-task cap is reserved like a task's: it starts only if the day's hard caps hold it (checked and claimed with no await between).
  const refused = shadowBudgetRefusal({ db, adapter: deps.adapter, now: clock.now(), taskId: input.taskId, pool: deps.pool });
  if (refused) return void skipped(deps, input, refused);
  const id = claimShadowPair(db, {
    task: input.taskId, attempt: input.attempt, fix: input.fix, startSha: plan.startSha, workspace: site.workspace, host: input.host,
    realBackend: plan.real.backend, realModel: plan.real.model, shadowBackend: launch.backend, shadowModel: launch.model ?? null, at: clock.now(),
  });
  if (id === undefined) return;
  const record = (side: Omit<ShadowSide, 'at'>) => recordShadowSide(db, id, { ...side, at: clock.now() });
  let release: (() => Promise<void>) | undefined;
  let ran: SessionResult | undefined;
  try {
    ran = await session(deps, plan, id, (r) => (release = r));
    if (ran.interrupted) return record({ status: 'interrupted', outcome: null, error: ran.interrupted, files: null, costUsd: ran.costUsd, checks: null });
    await site.reach(() => site.sanitize());
    const files = await site.reach(() => site.touched(site.workspace, plan.startSha));
    const checks: ShadowChecks = !ran.ok ? { state: 'skipped', reason: 'the shadow did not end well' } : stopped(deps) ? { state: 'skipped', reason: 'the engine stopped' } : await site.checks();
    record({ status: 'done', outcome: ran.outcome, error: ran.error, files, costUsd: ran.costUsd, checks: checks.state, checksReason: checks.reason });
  } catch (error) {
    // A stop while the shadow's host was out of reach ends here too: cut off, not failed.
    const status = stopped(deps) ? 'interrupted' : 'failed';
    // The session may have spent before it broke off: charged once (its end already did when it returned).
    const charged = ran ? { usd: ran.costUsd, note: null } : await chargeCut(deps, { id, task: input.taskId }, launch, plan.site.streamNow());
    const message = [(error as Error).message ?? String(error), charged.note].filter(Boolean).join('; ');
    record({ status, outcome: null, error: message, files: null, costUsd: charged.usd, checks: null });
  } finally {
    await release?.().catch(() => undefined);
  }
}

/** The engine stops or is killed: a shadow ends first. */
function stopped(deps: EffectDeps): boolean {
  return Boolean(deps.shadowStop?.aborted || deps.killed?.());
}

type SessionResult = { ok: boolean; outcome: string; error: string | null; costUsd: number; interrupted?: string };

/** Makes the sibling workspace, starts the confined session detached, and watches it to its end (or the engine's). */
async function session(deps: EffectDeps, plan: ShadowPlan, id: number, onRelease: (r: () => Promise<void>) => void): Promise<SessionResult> {
  const { adapter, clock, db } = deps;
  const { input, launch, site } = plan;
  const branch = `${adapter.branches.prefix}shadow/${input.taskId.toLowerCase()}-a${input.attempt}-f${input.fix}`;
  // The janitor may be removing this task's old shadow workspaces (a retry of a finished task): never make one it is removing.
  await untilSwept(db, input.taskId);
  await site.reach(() => site.make(plan.startSha, branch, `${input.taskId}/shadow-a${input.attempt}-f${input.fix}`));
  // Confined by the sandbox of the host it runs on, like the worker there.
  const sandbox = deps.sandboxes?.get(input.host) ?? sandboxOf(adapter, site.host);
  const confined = await site.reach(() => sandbox.wrap({ role: 'worker', backend: launch.backend, argv: launch.argv, env: launch.env, workspace: site.workspace, writable: true, readOnly: launch.readOnly, waited: false, taskId: `${input.taskId}-shadow` }));
  if (confined.network) onRelease(() => confined.network!.release());
  if (stopped(deps)) return { ok: false, outcome: 'interrupted', error: null, costUsd: 0, interrupted: 'the engine stopped before the shadow started' };
  const pid = await site.reach(() => site.spawn(confined.argv, launch.env));
  setShadowPid(db, id, pid);
  const wallMs = adapter.agents.timeouts.wallMinutes * 60_000;
  const startedAt = clock.now();
  const interval = deps.watchIntervalMs ?? 200;
  let timedOut = false;
  // undefined: its host does not answer now; the shadow may run on, so it is watched on until the host is back.
  while ((await site.alive(pid)) !== false) {
    if (stopped(deps)) {
      await site.terminate(pid, input.taskId);
      const cut = deps.killed?.() ? 'the killswitch stopped the shadow' : 'the engine stopped while the shadow ran';
      const charged = await chargeCut(deps, { id, task: input.taskId }, launch, site.streamNow());
      return { ok: false, outcome: 'interrupted', error: null, costUsd: charged.usd, interrupted: charged.note ? `${cut}; ${charged.note}` : cut };
    }
    if (clock.now() - startedAt > wallMs) {
      await site.terminate(pid, input.taskId).catch(() => undefined);
      timedOut = true;
      break;
    }
    await clockSleep(clock, interval, deps.shadowStop);
  }
  const outcome = deps.agents.parseWorkerLog(await site.stream(), { backend: launch.backend, ...(launch.model ? { model: launch.model } : {}) });
  const costUsd = outcome?.usage.costUsd ?? 0;
  spend(deps, { id, task: input.taskId }, costUsd);
  if (timedOut) return { ok: false, outcome: 'timed_out', error: `wall-clock timeout (${adapter.agents.timeouts.wallMinutes} min)`, costUsd };
  if (!outcome) return { ok: false, outcome: 'lost', error: 'the shadow exited without a result', costUsd };
  return { ok: outcome.ok, outcome: outcome.ok ? 'ok' : outcome.kind ?? 'failed', error: outcome.ok ? null : outcome.error ?? null, costUsd };
}

type Charged = { usd: number; note: string | null };

/**
 * Charges a shadow cut off before its end, once per pair: what its stream shows it spent so far, or (its stream
 * unreadable now, its host out of reach) its whole per-task cap, the most it may have spent. A pair already charged
 * (its end, or an earlier cut) keeps that charge. `text` is its stream now (see ShadowSite.streamNow).
 */
async function chargeCut(deps: EffectDeps, pair: { id: number; task: string }, route: { backend: string; model?: string | null }, text: ReturnType<ShadowSite['streamNow']>): Promise<Charged> {
  return chargeRead(deps, pair, route, await text);
}

/** chargeCut once the stream is read (no await: a start charges its local shadows before it dispatches). */
function chargeRead(deps: EffectDeps, pair: { id: number; task: string }, route: { backend: string; model?: string | null }, text: string | undefined): Charged {
  const already = shadowSpendOf(deps.db, pair.id);
  if (already !== undefined) return { usd: already, note: null };
  if (text === undefined) {
    const cap = deps.adapter.budget.perTaskUsd;
    spend(deps, pair, cap);
    return { usd: cap, note: `its stream could not be read, so its per-task cap of $${cap} is charged` };
  }
  const usd = deps.agents.parseWorkerLog(text, { backend: route.backend, ...(route.model ? { model: route.model } : {}) })?.usage.costUsd ?? 0;
  spend(deps, pair, usd);
  return { usd, note: null };
}

/** Shadow spend is a ledger spend row like any agent's: it counts against the daily caps. It names its pair, so it is charged once. */
function spend(deps: EffectDeps, pair: { id: number; task: string }, usd: number): void {
  if (usd > 0) appendEvent(deps.db, { at: deps.clock.now(), actor: `task:${pair.task}`, kind: 'spend', task: pair.task, payload: { usd, role: 'shadow', task: pair.task, pair: pair.id } });
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
    // Where the real workspace is (over the transport on an SSH host); one try: the task never waits for its shadow's record.
    const files = await shadowSiteOf(deps, input).touched(input.worktree, row.start_sha);
    recordRealSide(deps.db, key, { outcome: out.outcome, files, costUsd: out.costUsd, backend: out.backend ?? row.real_backend, model: row.real_model });
  } catch {
    // The pair keeps its real side empty: the shadow's record never costs the task anything.
  }
}

/**
 * At a start: a shadow recorded as running was cut off by the engine's end (a crash, a stop). Its process group is
 * terminated (recorded first, like a worker's), what it spent is charged (chargeCut), and the pair is recorded as
 * interrupted, never run again. Shadows on the engine's machine are all recorded before this returns its promise
 * (no await before them), so the budget gates see their spend before anything is dispatched; one on an SSH host
 * stays running, reserved at its cap by the gates, until its stream is read (one try) and it is recorded.
 */
export async function interruptShadows(deps: EffectDeps): Promise<number> {
  const rows = runningShadowPairs(deps.db);
  const remote: Array<() => Promise<void>> = [];
  for (const row of rows) {
    if (row.pid !== null && deps.terminateGroup) {
      const ending = deps.terminateGroup(row.host, row.pid, row.task).catch(() => undefined);
      deps.track?.(ending);
    }
    const taskDeps = depsForTask(deps, row.task);
    const text = streamOf(taskDeps, row);
    if (text instanceof Promise) remote.push(async () => recordCut(taskDeps, row, await text));
    else recordCut(taskDeps, row, text);
  }
  for (const record of remote) await record();
  return rows.length;
}

/** The cut-off shadow's stream now; undefined when its site cannot be named any more (its host gone from the config). */
function streamOf(deps: EffectDeps, row: ShadowPairRow): ReturnType<ShadowSite['streamNow']> {
  try {
    return shadowSiteOf(deps, { taskId: row.task, attempt: row.attempt, fix: row.fix, host: row.host } as RunAgentInput).streamNow();
  } catch {
    return undefined;
  }
}

function recordCut(deps: EffectDeps, row: ShadowPairRow, text: string | undefined): void {
  const charged = chargeRead(deps, row, { backend: row.shadow_backend, model: row.shadow_model }, text);
  const error = ['the engine ended while the shadow ran', charged.note].filter(Boolean).join('; ');
  recordShadowSide(deps.db, row.id, { status: 'interrupted', outcome: null, error, files: null, costUsd: charged.usd, checks: null, at: deps.clock.now() });
}
