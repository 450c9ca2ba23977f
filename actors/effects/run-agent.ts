import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkOutput, Plan } from '../../machines/effects.js';
import { defaultPrompts, renderPrompt } from '../../src/agents/prompts.js';
import { recordWorker, stampProgress } from '../../src/store/tasks.js';
import { clockSleep, hostOf, type EffectDeps } from '../deps.js';

export interface RunAgentInput {
  taskId: string;
  attempt: number;
  host: string;
  worktree: string;
  branch: string;
  plan: Plan;
  feedback: string | null;
  fix: number;
  title: string;
  description: string;
}

interface WorkerState {
  pid: number;
  host: string;
  startedAt: number;
  backend: string;
  terminatedByEngine?: boolean;
}

/** Per-task files of one worker session: its state (pid), its raw stream, its stderr. */
export function workerFiles(logsDir: string, taskId: string, attempt: number, fix: number) {
  const dir = join(logsDir, taskId);
  const stem = `worker-a${attempt}-f${fix}`;
  return { dir, state: join(dir, `${stem}.json`), stream: join(dir, `${stem}.ndjson`), stderr: join(dir, `${stem}.stderr.log`), pid: join(dir, `${stem}.pid`) };
}

/**
 * Runs the worker, or adopts it (contract 3.2): the worker is detached with its pid recorded
 * in a state file and the DB, so a restored task watches the live process instead of starting
 * a second one. Its stream is progress (stamped at most once a second); its terminal event is
 * the outcome. A worker gone without a result is `lost`: the task is reaped.
 */
export async function runAgent(deps: EffectDeps, input: RunAgentInput, signal: AbortSignal): Promise<WorkOutput> {
  const { adapter, clock, db, agents } = deps;
  const host = hostOf(deps, input.host);
  const files = workerFiles(adapter.paths.logs, input.taskId, input.attempt, input.fix);
  mkdirSync(files.dir, { recursive: true });

  let state: WorkerState | undefined = existsSync(files.state) ? (JSON.parse(readFileSync(files.state, 'utf8')) as WorkerState) : undefined;
  const launched = !state && existsSync(files.pid) ? Number(readFileSync(files.pid, 'utf8').trim()) : NaN;
  if (Number.isInteger(launched) && launched > 1) {
    // Killed between spawn and record last time: the host wrote the pid as the process started; adopt it.
    state = { pid: launched, host: input.host, startedAt: clock.now(), backend: adapter.agents.worker.backend };
    writeFileSync(files.state, JSON.stringify(state));
    recordWorker(db, input.taskId, launched, input.host, clock.now());
  }
  if (state && !state.terminatedByEngine && (await aliveOrUnknown(host, state.pid)) === false) {
    // Dead before we looked: its stream says how it ended, or it was lost.
    return finish(deps, input, files.stream, state.backend);
  }
  if (!state || state.terminatedByEngine) {
    const request = {
      taskId: input.taskId,
      attempt: input.attempt,
      fix: input.fix,
      cwd: input.worktree,
      prompt: renderPrompt(defaultPrompts.worker, {
        taskId: input.taskId,
        title: input.title,
        description: input.description,
        plan: input.plan,
        feedback: input.feedback ? `Feedback on the previous attempt:\n${input.feedback}` : '',
      }),
      facts: { ...input },
    };
    const launch = agents.workerLaunch(request);
    writeFileSync(files.stream, ''); // a fresh session starts a fresh stream
    rmSync(files.pid, { force: true });
    const { pid } = await host.spawnDetached(launch.argv, { cwd: input.worktree, env: launch.env, stdoutFile: files.stream, stderrFile: files.stderr, pidFile: files.pid });
    state = { pid, host: input.host, startedAt: clock.now(), backend: launch.backend };
    try {
      writeFileSync(files.state, JSON.stringify(state));
      recordWorker(db, input.taskId, pid, input.host, clock.now());
    } catch (error) {
      // Unrecorded, the worker could never be adopted and the retry would start a second one (disk full).
      await host.killGroup(pid).catch(() => undefined);
      throw error;
    }
  }
  return watch(deps, input, files, state, signal);
}

async function watch(deps: EffectDeps, input: RunAgentInput, files: ReturnType<typeof workerFiles>, state: WorkerState, signal: AbortSignal): Promise<WorkOutput> {
  const { clock, db, adapter } = deps;
  const host = hostOf(deps, input.host);
  const wallMs = adapter.agents.timeouts.wallMinutes * 60_000;
  const stallMs = adapter.agents.timeouts.stallMinutes * 60_000;
  const interval = deps.watchIntervalMs ?? 200;
  let offset = 0;
  let lastOutputAt = clock.now();
  let lastStamp = 0;

  const onAbort = () => {
    // Soft kill: the session finishes its turn and is adopted on resume. Hard kill / drain: terminate.
    if (deps.workerStopMode() === 'terminate') {
      writeFileSync(files.state, JSON.stringify({ ...state, terminatedByEngine: true }));
      const killing = host.killGroup(state.pid);
      deps.track?.(killing);
      void killing;
    }
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal.aborted) return { outcome: 'failed', error: 'stopped', costUsd: 0, backend: state.backend };
      const grown = readGrowth(files.stream, offset);
      if (grown > offset) {
        offset = grown;
        lastOutputAt = clock.now();
        if (lastOutputAt - lastStamp >= 1000) {
          stampProgress(db, input.taskId, lastOutputAt); // stream events are progress (throttled)
          lastStamp = lastOutputAt;
        }
      }
      // Unreachable host: the worker may well be running; failing here would start a second one beside it.
      if ((await aliveOrUnknown(host, state.pid)) === false) return finish(deps, input, files.stream, state.backend);
      const now = clock.now();
      const overWall = now - state.startedAt > wallMs;
      const stalled = now - lastOutputAt > stallMs;
      if (overWall || stalled) {
        const stopped = await host.killGroup(state.pid).then(
          () => true,
          () => false,
        );
        if (!stopped) {
          // Cannot stop it while its host is unreachable: keep watching rather than run a retry beside it.
          await clockSleep(clock, interval, signal);
          continue;
        }
        const error = overWall ? `wall-clock timeout (${adapter.agents.timeouts.wallMinutes} min)` : `no output for ${adapter.agents.timeouts.stallMinutes} min`;
        const spent = parse(deps, files.stream)?.usage.costUsd ?? 0;
        return { outcome: 'failed', error, costUsd: spent, backend: state.backend, ledger: spendNote(input, spent, 'worker') };
      }
      await clockSleep(clock, interval, signal);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** isAlive, with an unreachable host reported as unknown (undefined) instead of an error. */
async function aliveOrUnknown(host: { isAlive(pid: number): Promise<boolean> }, pid: number): Promise<boolean | undefined> {
  try {
    return await host.isAlive(pid);
  } catch {
    return undefined;
  }
}

function parse(deps: EffectDeps, stream: string) {
  return deps.agents.parseWorkerLog(existsSync(stream) ? readFileSync(stream, 'utf8') : '');
}

function finish(deps: EffectDeps, input: RunAgentInput, stream: string, backend: string): WorkOutput {
  const outcome = parse(deps, stream);
  if (!outcome) return { outcome: 'lost', error: 'the worker exited without a result', costUsd: 0, backend };
  const costUsd = outcome.usage.costUsd;
  const ledger = spendNote(input, costUsd, 'worker');
  if (outcome.ok) return { outcome: 'ok', costUsd, backend: outcome.backend, ledger };
  return { outcome: outcome.errorKind ?? 'failed', error: outcome.error, costUsd, backend: outcome.backend, ledger };
}

export function spendNote(input: { taskId: string }, usd: number, role: string) {
  return usd > 0 ? [{ kind: 'spend', payload: { usd, role, task: input.taskId } }] : [];
}

/** The stream file's size: growth alone is progress; the content is parsed once, at the end. */
function readGrowth(file: string, offset: number): number {
  try {
    return Math.max(offset, statSync(file).size);
  } catch {
    return offset;
  }
}
