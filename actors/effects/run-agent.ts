import { lstatSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EffectInput, LedgerNote, WorkOutput } from '../../machines/effects.js';
import { ActivityTracker } from '../../src/agents/activity.js';
import { renderPrompt, templateFor } from '../../src/agents/prompts.js';
import { StreamFileReader } from '../../src/agents/stream-file.js';
import { recordActivity, recordBackend } from '../../src/store/agent-activity.js';
import { getTask, recordWorker, stampProgress } from '../../src/store/tasks.js';
import { AgentGateClosedError, HostUnreachableError } from '../../src/errors.js';
import { mkdirPrivate, writePrivate } from '../../src/fs-private.js';
import { isOutage, OUTCOME_POLICY, resetTimeOf, type OutageKind } from '../../machines/outcome.js';
import { routesOf, workerOutages } from '../agents/router.js';
import type { AgentUsage, HostTransport, SpawnDetachedOptions } from '../../src/ports.js';
import { clockSleep, hostOf, type EffectDeps } from './deps.js';
import type { WorkerLaunch } from '../../src/agents/port.js';
import { closeListener, markDelivered, openListener } from '../../src/store/messages.js';
import { pendingKillGroupsOfTask } from '../../src/store/kill-groups.js';
import { afterTurn, operatorMessages, resumeWorker, takeQueued } from './worker-resume.js';
import { sandboxOf } from '../sandbox/sandbox.js';
import { placeOf } from '../hosts/places.js';
import { endNetwork, resumeNetwork } from '../network/registry.js';
import { ensureSetup } from '../setup/run-setup.js';
import { prepareShadow } from './shadow.js';

/** The worker step's input, declared once in machines/effects.ts. */
type RunAgentInput = EffectInput<'runAgent'>;

export interface WorkerState {
  pid: number;
  host: string;
  startedAt: number;
  backend: string;
  model?: string;
  terminatedByEngine?: boolean;
  /** Ended in an outage (or killed by a stall / wall-clock timeout): spent, never adopted again; the next run launches afresh. */
  spent?: boolean;
  /** Follow-up sessions so far (`oxi say`): session n > 0 writes `…-r<n>` files; its state file stays the same. */
  resume?: number;
  /** What the earlier sessions of this worker cost (the last one's outcome adds its own). */
  priorCostUsd?: number;
  /** Messages a follow-up session is being started with: set before it spawns, cleared once it is recorded. */
  delivering?: number[];
  /** The agent session the follow-up resumes. */
  sessionId?: string;
}

/**
 * Per-task files of one worker session: its state (pid) in the engine's logs; its raw stream and stderr
 * where the worker runs (`remoteDir` on an SSH host, read over the transport; else next to the state).
 */
export function workerFiles(logsDir: string, taskId: string, attempt: number, fix: number, remoteDir?: string, resume = 0) {
  const dir = join(logsDir, taskId);
  const base = `worker-a${attempt}-f${fix}`;
  const stem = resume > 0 ? `${base}-r${resume}` : base;
  const where = remoteDir ?? dir;
  const stream = `${where}/${stem}.ndjson`;
  // The pid file is written by the host as the process starts: a worker launched but not yet recorded is still adoptable.
  return { dir, state: join(dir, `${base}.json`), stream, stderr: `${where}/${stem}.stderr.log`, pid: `${stream}.pid` };
}

export type WorkerFiles = ReturnType<typeof workerFiles>;

export function filesFor(deps: EffectDeps, input: RunAgentInput, resume = 0) {
  return workerFiles(deps.adapter.paths.logs, input.taskId, input.attempt, input.fix, placeOf(deps, input.host).streamsDir(input.taskId), resume);
}

/**
 * Runs the worker, or adopts it (contract 3.2): the worker is detached with its pid recorded
 * in a state file and the DB, so a restored task watches the live process instead of starting
 * a second one. Its stream is progress (stamped at most once a second); its terminal event is
 * the outcome. A worker gone without a result is `lost`: the task is reaped.
 */
export async function runAgent(deps: EffectDeps, input: RunAgentInput, signal: AbortSignal): Promise<WorkOutput> {
  // From launch to the worker's end this is the one judge of the task's worker: the reaper keeps off (deps.watchers).
  deps.watchers?.set(input.taskId, Number.POSITIVE_INFINITY);
  try {
    return await attendWorker(deps, input, signal);
  } finally {
    // Its answer moves the task out of `working` a moment later: that moment is not a lost worker either.
    deps.watchers?.set(input.taskId, deps.clock.now());
  }
}

async function attendWorker(deps: EffectDeps, input: RunAgentInput, signal: AbortSignal): Promise<WorkOutput> {
  const { adapter, clock, db } = deps;
  const host = hostOf(deps, input.host);
  const place = placeOf(deps, input.host);
  const retry = <T>(fn: () => Promise<T>) => place.reach(signal, fn);
  let state = readState(filesFor(deps, input).state);
  let files = filesFor(deps, input, state?.resume ?? 0);
  mkdirPrivate(files.dir);
  // A worker recorded on another host (the task was placed elsewhere since): its pid means nothing here. It is ended
  // on its own host like an engine-terminated one (below), and the fresh launch waits until it is seen gone (3.2).
  if (state?.host && state.host !== input.host) state = { ...state, terminatedByEngine: true };

  if (!state || state.spent || state.terminatedByEngine || state.delivering) {
    const launched = Number((await retry(() => host.readFile(files.pid)))?.trim());
    // A pid file naming another process than the state's: a relaunch started it and the engine died before recording it.
    if (Number.isInteger(launched) && launched > 1 && launched !== state?.pid) {
      // Killed between spawn and record last time: adopt the worker the host started (a follow-up session keeps its worker's record).
      const delivering = state?.delivering;
      state = delivering
        ? { ...state!, pid: launched, startedAt: clock.now(), delivering: undefined }
        : { pid: launched, host: input.host, startedAt: clock.now(), backend: adapter.agents.worker.backend };
      writePrivate(files.state, JSON.stringify(state));
      recordWorker(db, input.taskId, launched, input.host, clock.now());
      listening(deps, input, state, delivering);
    }
  }
  // Killed while a follow-up session was being started, before it was: start it now (its messages are still queued).
  if (state?.delivering) return resumeWorker(deps, input, state, signal, resumeHooks);
  if (state && !state.terminatedByEngine && !state.spent && !(await retry(() => host.isAlive(state!.pid)))) {
    // Dead before we looked: its stream says how it ended, or it was lost.
    await endNetwork(networkSession(deps, input));
    return finish(deps, input, files.stream, state, signal);
  }
  // A worker the engine terminated (hard kill, drain) may still run on a host that was out of reach: it goes before a new one starts.
  if (state?.terminatedByEngine && deps.terminateGroup) await deps.terminateGroup(state.host || input.host, state.pid, input.taskId);
  let setupNotes: LedgerNote[] = [];
  if (!state || state.terminatedByEngine || state.spent) {
    await previousWorkersGone(deps, input.taskId, signal);
    const fresh = await launchFresh(deps, input, place, signal);
    if ('exit' in fresh) return fresh.exit;
    ({ state, files, setupNotes } = fresh);
  } else {
    // An adopted worker (this engine restarted) gets its network proxy back at the path its sandbox binds.
    await resumeNetwork(networkSession(deps, input));
  }
  const out = await watch(deps, input, files, state, signal);
  // A worker left running (soft kill) keeps its proxy; one that ended, or was terminated, does not.
  if (out.error !== 'stopped' || deps.workerStopMode() === 'terminate') await endNetwork(networkSession(deps, input));
  return setupNotes.length ? { ...out, ledger: [...setupNotes, ...(out.ledger ?? [])] } : out;
}

/**
 * Contract 3.2 at a relaunch: a worker the engine decided to terminate (a reaped or abandoned attempt, a hard kill)
 * may still run while its host is out of reach. No new worker starts until every such group of the task is seen
 * gone: tried again now, then waited for (the host's outage is the task's wait, never a second worker).
 */
async function previousWorkersGone(deps: EffectDeps, taskId: string, signal: AbortSignal): Promise<void> {
  const terminate = deps.terminateGroup;
  if (!terminate) return;
  // A group on a host no longer configured can run nothing this engine could see or start beside it.
  const pending = () => pendingKillGroupsOfTask(deps.db, taskId).filter((g) => deps.hosts.has(g.host));
  for (let tries = 0; ; tries++) {
    const groups = pending();
    if (groups.length === 0) return;
    await Promise.all(groups.map((g) => terminate(g.host, g.pid, taskId)));
    if (pending().length === 0) return;
    await clockSleep(deps.clock, Math.min(60_000, 1_000 * 2 ** Math.min(tries, 6)), signal);
  }
}

/** The worker's network session (actors/network/registry.ts): one per task. */
function networkSession(deps: EffectDeps, input: RunAgentInput) {
  return { stateDir: deps.adapter.paths.stateDir, db: deps.adapter.paths.db, taskId: input.taskId, role: 'worker' };
}

/**
 * A new worker session: budget check, prompt, launch route, workspace setup, queued messages, spawn.
 * Returns `exit` when the run ends before any session starts (budget spent, agent gate closed, setup failed).
 */
async function launchFresh(
  deps: EffectDeps,
  input: RunAgentInput,
  place: ReturnType<typeof placeOf>,
  signal: AbortSignal,
): Promise<{ exit: WorkOutput } | { state: WorkerState; files: ReturnType<typeof filesFor>; setupNotes: LedgerNote[] }> {
  const { adapter, clock, db, agents } = deps;
  const retry = <T>(fn: () => Promise<T>) => place.reach(signal, fn);
  // The per-task cap is enforced here too: what is left of it is all the agent may spend.
  const left = adapter.budget.perTaskUsd - (getTask(db, input.taskId)?.cost_usd ?? 0);
  if (left <= 0) {
    return { exit: { outcome: 'failed', error: `the task already spent its per-task budget of $${adapter.budget.perTaskUsd}`, costUsd: 0, backend: adapter.agents.worker.backend, ledger: [{ kind: 'budget.task_cap', payload: { task: input.taskId, capUsd: adapter.budget.perTaskUsd } }] } };
  }
  const request = {
    taskId: input.taskId,
    attempt: input.attempt,
    fix: input.fix,
    cwd: input.worktree,
    maxBudgetUsd: left,
    prompt: renderPrompt(templateFor(adapter.agents.prompts, 'worker'), {
      taskId: input.taskId,
      title: input.title,
      description: input.description,
      plan: input.plan,
      feedback: input.feedback ? `Feedback on the previous attempt:\n${input.feedback}` : '',
    }),
    facts: { ...input },
  };
  let launch: ReturnType<typeof agents.workerLaunch>;
  try {
    launch = agents.workerLaunch(request);
  } catch (error) {
    // Every worker route is behind a closed agent gate: no session starts; the task waits for its probe.
    if (!(error instanceof AgentGateClosedError)) throw error;
    return { exit: { outcome: error.outage, outage: error.outage, resetAt: error.resetAt, error: error.message, costUsd: 0, backend: adapter.agents.worker.backend } };
  }
  // The workspace setup (dependencies, .env) before the worker's first session, on the workspace as the engine
  // keeps it; a failure waits, a repeated one spends the attempt. (No setup: no extra round trip to the host.)
  if (deps.adapter.workspace.setup || deps.adapter.workspace.files.length) await place.sanitize(input.worktree, { ifPresent: true });
  const setup = await retry(() => ensureSetup(deps, { taskId: input.taskId, attempt: input.attempt, fix: input.fix, host: input.host, worktree: input.worktree }, signal));
  if (setup.ran && !setup.ok) return { exit: { outcome: 'failed', error: setup.error, costUsd: 0, backend: launch.backend, ledger: setup.ledger } };
  // Queued messages (`oxi say`) that found no live session to resume go with the next session's prompt.
  const queued = takeQueued(deps, input.taskId);
  if (queued.length) request.prompt += `\n\n${operatorMessages(queued)}`;
  const files = filesFor(deps, input);
  // The shadow (agents.shadow) starts from the commit the real session starts from, once the real one runs.
  const shadow = adapter.agents.shadow ? await prepareShadow(deps, input, request, launch).catch(() => undefined) : undefined;
  const state = await startSession(deps, input, launch, files, {}, signal);
  shadow?.();
  if (queued.length) markDelivered(db, input.taskId, queued.map((m) => m.id), 'new session', clock.now());
  recordBackend(db, input.taskId, launch.backend, launch.model);
  return { state, files, setupNotes: setup.ledger };
}

/**
 * Confines and starts one worker session (a launch, or a follow-up that resumes one) and records it: its pid in
 * the state file and the DB, a listener for `oxi say`. `carry`: what the state keeps from the session before.
 */
async function startSession(deps: EffectDeps, input: RunAgentInput, launch: WorkerLaunch, files: WorkerFiles, carry: Partial<WorkerState>, signal: AbortSignal, firstLine = ''): Promise<WorkerState> {
  const { adapter, clock, db } = deps;
  const host = hostOf(deps, input.host);
  const place = placeOf(deps, input.host);
  const retry = <T>(fn: () => Promise<T>) => place.reach(signal, fn);
  // The workspace's git state is the engine's again before the sandbox reads it: the mounts never follow files a
  // previous session wrote there (alternates, a .git file), and no link in .git leads the engine's git elsewhere.
  await place.sanitize(input.worktree, { ifPresent: true });
  // Confined before anything is reset: without a required sandbox nothing starts (SandboxUnavailableError: no attempt spent).
  const sandbox = deps.sandboxes?.get(input.host) ?? sandboxOf(adapter, host);
  const confined = await retry(() => sandbox.wrap({ role: 'worker', backend: launch.backend, argv: launch.argv, env: launch.env, workspace: input.worktree, writable: true, readOnly: launch.readOnly, waited: false, taskId: input.taskId }));
  // A fresh session starts a fresh stream (a follow-up's opens with the operator's message) and, on an SSH host, an empty pid file.
  if (host.fileSize) await retry(async () => (await host.writeFile(files.stream, firstLine), await host.writeFile(files.pid, '')));
  else {
    writePrivate(files.stream, firstLine);
    rmSync(files.pid, { force: true });
  }
  // Killed (or left working) during the awaits above: a worker started now would run unwatched.
  signal.throwIfAborted();
  const pid = await retry(() => spawnOnce(host, confined.argv, { cwd: input.worktree, env: launch.env, stdoutFile: files.stream, stderrFile: files.stderr, pidFile: files.pid }, signal));
  const state: WorkerState = { ...carry, pid, host: input.host, startedAt: clock.now(), backend: launch.backend, ...(launch.model ? { model: launch.model } : {}), delivering: undefined };
  try {
    writePrivate(files.state, JSON.stringify(state));
    recordWorker(db, input.taskId, pid, input.host, clock.now());
  } catch (error) {
    // Unrecorded, the worker could never be adopted and the retry would start a second one (disk full).
    await host.killGroup(pid).catch(() => undefined);
    // A full disk does not spend an attempt, so the next launch reuses these paths: leave it nothing to adopt.
    if (!carry.resume) rmSync(files.state, { force: true });
    if (host.fileSize) await host.writeFile(files.pid, '').catch(() => undefined);
    else rmSync(files.pid, { force: true });
    throw error;
  }
  listening(deps, input, state, carry.delivering);
  recordActivity(db, input.taskId, { kind: 'starting' }, clock.now());
  return state;
}

/** A live session takes messages; the ones a follow-up session was started with are delivered. */
function listening(deps: EffectDeps, input: RunAgentInput, state: WorkerState, delivering: readonly number[] | undefined): void {
  openListener(deps.db, { task: input.taskId, host: input.host, pid: state.pid, backend: state.backend, at: deps.clock.now() });
  if (delivering?.length) markDelivered(deps.db, input.taskId, delivering, state.sessionId ?? 'unknown', deps.clock.now());
}

const resumeHooks = {
  start: (deps: EffectDeps, input: RunAgentInput, launch: WorkerLaunch, files: WorkerFiles, carry: Partial<WorkerState>, signal: AbortSignal, firstLine: string) =>
    startSession(deps, input, launch, files, carry, signal, firstLine),
  watch: (deps: EffectDeps, input: RunAgentInput, files: WorkerFiles, state: WorkerState, signal: AbortSignal) => watch(deps, input, files, state, signal),
  files: filesFor,
};
export type ResumeHooks = typeof resumeHooks;

async function watch(deps: EffectDeps, input: RunAgentInput, files: ReturnType<typeof workerFiles>, state: WorkerState, signal: AbortSignal): Promise<WorkOutput> {
  const { clock, db, adapter } = deps;
  const host = hostOf(deps, input.host);
  const place = placeOf(deps, input.host);
  const remote = place.remote;
  const wallMs = adapter.agents.timeouts.wallMinutes * 60_000;
  const stallMs = adapter.agents.timeouts.stallMinutes * 60_000;
  const interval = deps.watchIntervalMs ?? 200;
  // Local streams are read event by event (only progress events move the stall clock: retry notices
  // and permission denials do not); a remote stream's growth, read over the transport, is its progress.
  const reader = remote ? undefined : new StreamFileReader(files.stream);
  const tracker = new ActivityTracker(state.backend);
  let offset = 0;
  let lastOutputAt = clock.now();
  let lastStamp = 0;
  let shown = '';
  let shownAt = 0;

  // Recorded before it is tried: a host out of reach now has the group terminated when it answers again.
  const endWorker = () => {
    const killing = deps.terminateGroup ? deps.terminateGroup(input.host, state.pid, input.taskId) : host.killGroup(state.pid).catch(() => undefined);
    deps.track?.(killing);
  };
  const onAbort = () => {
    // Soft kill: the session finishes its turn and is adopted on resume. Anything else (hard kill, drain, the task left working): terminate.
    if (deps.workerStopMode() === 'terminate') {
      endWorker();
      try {
        writePrivate(files.state, JSON.stringify({ ...state, terminatedByEngine: true }));
      } catch {
        // A full disk: the kill (recorded in the database above) still stands, and a relaunch waits for it.
      }
    }
  };
  // Stopped while the session was being started: the listener would never fire, and the worker would run unwatched.
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal.aborted) return { outcome: 'failed', error: 'stopped', costUsd: 0, backend: state.backend };
      if (reader) {
        for (const event of reader.read()) if (tracker.see(event)?.progress) lastOutputAt = clock.now();
      } else {
        let grown: number;
        try {
          grown = Math.max(offset, (await place.streamSize(files.stream)) ?? 0);
        } catch (error) {
          // The host is out of reach: the worker may well be running on. Wait for the host, judge nothing meanwhile.
          if (!(error instanceof HostUnreachableError)) throw error;
          await place.reach(signal, () => host.isAlive(state.pid)).catch(() => undefined);
          continue;
        }
        if (grown > offset) {
          offset = grown;
          lastOutputAt = clock.now();
        }
      }
      const now0 = clock.now();
      if (lastOutputAt > lastStamp && now0 - lastStamp >= 1000) {
        stampProgress(db, input.taskId, lastOutputAt); // stream events are progress (throttled)
        lastStamp = now0;
      }
      const label = JSON.stringify(tracker.current ?? null);
      if (tracker.current && label !== shown && (now0 - shownAt >= 1000 || tracker.current.kind !== JSON.parse(shown || 'null')?.kind)) {
        recordActivity(db, input.taskId, tracker.current, now0);
        shown = label;
        shownAt = now0;
      }
      if (!(await place.reach(signal, () => host.isAlive(state.pid)))) return finish(deps, input, files.stream, state, signal);
      const now = clock.now();
      const overWall = now - state.startedAt > wallMs;
      const stalled = now - lastOutputAt > stallMs;
      if (overWall || stalled) {
        await place.reach(signal, () => host.killGroup(state.pid));
        const error = overWall ? `wall-clock timeout (${adapter.agents.timeouts.wallMinutes} min)` : `no output for ${adapter.agents.timeouts.stallMinutes} min`;
        const spent = ((await parse(deps, input.host, files.stream, state))?.usage.costUsd ?? 0) + (state.priorCostUsd ?? 0);
        // A hang is an outage of the route (the fallback route runs next), not a failed attempt; the machine bounds how often.
        const kind: OutageKind = overWall ? 'timed_out' : 'stalled';
        markSpent(files.state, state);
        closeListener(db, input.taskId);
        return { outcome: kind, outage: kind, error, costUsd: spent, backend: state.backend, fallback: fallsBack(deps, input.taskId, 1), ledger: [...spendNote(input, spent, 'worker'), outageNote(input, kind, state, error)] };
      }
      await clockSleep(clock, interval, signal);
    }
  } catch (error) {
    // Left by an error, not a stop (a host that stopped answering, say): the worker must not run on unwatched, or
    // the next attempt would start a second one. Ended durably; that attempt waits until it is seen gone.
    if (!signal.aborted) endWorker();
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The recorded worker, if any. A state file cut short (the disk filled as it was written) or not a
 * regular file records nothing: the pid file, written by the host at spawn, is the fallback.
 */
function readState(path: string): WorkerState | undefined {
  try {
    if (!lstatSync(path).isFile()) return undefined;
    const state = JSON.parse(readFileSync(path, 'utf8')) as WorkerState;
    return Number.isInteger(state?.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** The whole stream, parsed once at the end (remote: read over the transport, waiting out an unreachable host). */
async function parse(deps: EffectDeps, hostName: string, stream: string, state: WorkerState) {
  const launch = { backend: state.backend, ...(state.model ? { model: state.model } : {}) };
  const place = placeOf(deps, hostName);
  const outcome = deps.agents.parseWorkerLog(await place.readStream(stream), launch);
  // What the backend writes after its stream (codex: reasoning tokens in its session file, on the worker's host).
  return outcome && deps.agents.settleUsage ? deps.agents.settleUsage(outcome, launch, place.remote ? place.transport : undefined) : outcome;
}

/**
 * Starts the worker once. If the host dropped mid-spawn we cannot know whether it started: the pid
 * file it writes first on the host settles it, so a retry adopts the started worker instead of a second one.
 */
async function spawnOnce(host: HostTransport, argv: readonly string[], options: SpawnDetachedOptions, signal: AbortSignal): Promise<number> {
  if (host.fileSize) {
    const recorded = Number((await host.readFile(options.pidFile ?? `${options.stdoutFile}.pid`))?.trim());
    if (Number.isInteger(recorded) && recorded > 1) return recorded;
  }
  // That read can take as long as the host's command timeout: a kill meanwhile means no worker.
  signal.throwIfAborted();
  return (await host.spawnDetached(argv, options)).pid;
}

async function finish(deps: EffectDeps, input: RunAgentInput, stream: string, state: WorkerState, signal: AbortSignal): Promise<WorkOutput> {
  const backend = state.backend;
  const outcome = await parse(deps, input.host, stream, state);
  // The turn ended well and messages wait (`oxi say`): the session is resumed with them instead of finishing.
  if (outcome?.ok) {
    const followUp = await afterTurn(deps, input, state, outcome, signal, resumeHooks);
    if (followUp) return followUp;
  } else closeListener(deps.db, input.taskId);
  recordActivity(deps.db, input.taskId, { kind: 'finished' }, deps.clock.now());
  const prior = state.priorCostUsd ?? 0;
  if (!outcome) return { outcome: 'lost', error: 'the worker exited without a result', costUsd: prior, backend, ledger: spendNote(input, prior, 'worker') };
  const costUsd = outcome.usage.costUsd + prior;
  const ledger: LedgerNote[] = [...spendNote(input, costUsd, 'worker', outcome.usage), ...sessionNote(input, outcome)];
  deps.agentGates?.record(backend, outcome.ok ? 'ok' : outcome.kind ?? 'failed', outcome, outcome.error, state.startedAt);
  if (outcome.ok) return { outcome: 'ok', costUsd, backend: outcome.backend, ledger };
  const kind = outcome.kind ?? 'failed';
  if (!isOutage(kind)) return { outcome: 'failed', error: outcome.error, costUsd, backend: outcome.backend, ledger };
  // An outage moves the next launch to the worker's next fallback route (actors/agents/router.ts), and spends no attempt:
  // the relaunch reuses this attempt's paths, so this session is marked spent (never adopted again).
  markSpent(filesFor(deps, input).state, state);
  ledger.push(outageNote(input, kind, state, outcome.error ?? null));
  const resetAt = resetTimeOf(outcome, deps.clock.now());
  return { outcome: kind, outage: kind, error: outcome.error, costUsd, backend: outcome.backend, fallback: fallsBack(deps, input.taskId, 1), ...(resetAt === undefined ? {} : { resetAt }), ledger };
}

function markSpent(path: string, state: WorkerState): void {
  writePrivate(path, JSON.stringify({ ...state, spent: true }));
}

/** The ledger row that moves the next launch to the next route (counted by the router). */
function outageNote(input: { taskId: string }, kind: OutageKind, state: WorkerState, error: string | null): LedgerNote {
  return { kind: 'agent.outage', payload: { role: 'worker', task: input.taskId, backend: state.backend, model: state.model ?? null, outage: kind, fallback: OUTCOME_POLICY[kind].fallback, error } };
}

/** Whether the next launch (after `pending` more outage rows) takes a different route than this one: then it need not wait. */
function fallsBack(deps: EffectDeps, taskId: string, pending: number): boolean {
  const routes = routesOf(deps.adapter, 'worker').length;
  return routes > 1 && (workerOutages(deps.db, taskId) + pending) % routes !== 0;
}

/** The agent session, for `oxi tail`, resumption by hand, and the brief. */
function sessionNote(input: { taskId: string }, outcome: { sessionId?: string; backend: string; model?: string; usage: { turns?: number }; permissionDenials?: number }) {
  if (!outcome.sessionId) return [];
  return [{ kind: 'agent.session', payload: { task: input.taskId, role: 'worker', backend: outcome.backend, model: outcome.model ?? null, session: outcome.sessionId, turns: outcome.usage.turns ?? null, permissionDenials: outcome.permissionDenials ?? 0 } }];
}

export function spendNote(input: { taskId: string }, usd: number, role: string, usage?: AgentUsage) {
  const spend = usd > 0 ? [{ kind: 'spend', payload: { usd, role, task: input.taskId, ...(usage?.reasoningTokens ? { reasoningTokens: usage.reasoningTokens } : {}) } }] : [];
  // A spend that may be low is said once, where it is recorded (docs/agents.md: budget.undercount_risk).
  const risk = usage?.undercount ? [{ kind: 'budget.undercount_risk', payload: { task: input.taskId, role, usd, why: usage.undercount } }] : [];
  return [...spend, ...risk];
}
