/**
 * The promote recipe's effects: reading its history from the ledger, and running its command once.
 * A run is argv-form (no shell), in its own process group, with a whitelisted environment; every run
 * is two ledger rows: `promote.started` before the command starts (so a crash mid-run still counts as
 * the day's run) and `promote.run` with its exit code, duration and output tail when it ends,
 * including when a kill or the timeout stopped it. While it runs, its process group is on record
 * (`promote_group`): if the process running it dies, the next start ends the group and records the run as
 * interrupted (promote-recovery.ts).
 */
import { execa } from 'execa';
import type { EffectInput, PromoteHistoryOutput, PromoteOutput, PromoteTrigger } from '../../machines/effects.js';
import { forgeTokenNames } from '../../src/agents/env.js';
import type { Clock } from '../../src/clock.js';
import { pickRecipe, promoteName, promoteTarget } from '../../src/config/promote.js';
import type { Adapter, PromoteRecipe } from '../../src/config/schema.js';
import { secretEnvNames } from '../../src/notify/notifier.js';
import { redact } from '../../src/notify/payloads.js';
import type { Db } from '../../src/store/db.js';
import { processStart } from '../../src/process.js';
import { finishPromoteRun, setPromoteGroup, startPromoteRun } from '../../src/store/promote-groups.js';
import { lastPromoteRow, latestMergeId } from '../../src/store/promote.js';
import type { EffectDeps } from './deps.js';
import { endInterruptedPromotes, endPromoteGroup, PROMOTE_GRACE_MS, runningInThisProcess, thisOwner } from './promote-recovery.js';

/** Output kept in the ledger row: the last 4 KiB. */
export const PROMOTE_TAIL_BYTES = 4096;
/** Output held in memory while it runs (redacted whole, then cut to the tail). */
const WINDOW_CHARS = 64 * 1024;
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'USER'];
const GRACE_MS = PROMOTE_GRACE_MS;

/** The command's environment: the base names and the recipe's `env`, never a secret the adapter names. */
export function promoteEnv(adapter: Adapter, recipe: PromoteRecipe, source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const secrets = new Set([...forgeTokenNames(adapter), ...secretEnvNames(adapter)]);
  const env: Record<string, string> = {};
  for (const name of [...BASE_ENV, ...recipe.env]) {
    const value = source[name];
    if (value !== undefined && !secrets.has(name)) env[name] = value;
  }
  return env;
}

/** The last `PROMOTE_TAIL_BYTES` of `text` after redaction (whole UTF-8 characters). */
export function promoteTail(text: string, secrets: readonly string[]): string {
  const clean = redact(text, secrets);
  const bytes = Buffer.from(clean, 'utf8');
  if (bytes.length <= PROMOTE_TAIL_BYTES) return clean;
  // Dropping a leading partial character keeps the tail valid UTF-8 within the limit.
  return bytes.subarray(bytes.length - PROMOTE_TAIL_BYTES).toString('utf8').replace(/^\uFFFD+/, '');
}

export interface RunPromoteOptions {
  db: Db;
  adapter: Adapter;
  clock: Clock;
  recipe: PromoteRecipe;
  trigger: PromoteTrigger;
  /** Who runs it, for the ledger rows (`promoter:<name>`, or `cli:<user>`). */
  actor: string;
  signal?: AbortSignal;
  /** Told the pid once the command started (tests, progress). */
  onStart?: (pid: number) => void;
  /** What stopped it when the signal aborts it (for its summary): a kill, the daemon stopping, Ctrl-C. */
  stoppedBy?: () => string;
}

/** Runs the recipe's command once and records it; never rejects for the command's sake (a failure is an output). */
export async function runPromote(o: RunPromoteOptions): Promise<PromoteOutput & { runId: number }> {
  const name = promoteName(o.recipe);
  const { cwd, repo } = promoteTarget(o.adapter, o.recipe);
  const mergeId = latestMergeId(o.db);
  // Recorded in flight with its start: a crash from here on leaves a row a restart ends and records as interrupted.
  const startedId = startPromoteRun(o.db, { at: o.clock.now(), actor: o.actor, kind: 'promote.started', payload: { name, repo, trigger: o.trigger, command: o.recipe.command, cwd, mergeId } }, thisOwner());
  runningInThisProcess(startedId, true);
  try {
    const started = Date.now();
    const result = await execute(o, cwd, startedId);
    const durationMs = Date.now() - started;
    const secrets = secretEnvNames(o.adapter).map((n) => process.env[n]).filter((v): v is string => typeof v === 'string' && v.length > 0);
    const outputTail = promoteTail(result.output, secrets);
    const ok = result.exitCode === 0 && !result.stopped && !result.timedOut;
    const payload = { name, repo, trigger: o.trigger, ok, exitCode: result.exitCode, signal: result.signal, durationMs, summary: result.summary, outputTail, mergeId, pid: result.pid, startedId };
    const runId = finishPromoteRun(o.db, startedId, { at: o.clock.now(), actor: o.actor, kind: 'promote.run', payload });
    return { ok, exitCode: result.exitCode, durationMs, summary: result.summary, outputTail, runId };
  } finally {
    runningInThisProcess(startedId, false);
  }
}

interface Executed {
  exitCode: number | null;
  signal: string | null;
  pid: number | null;
  output: string;
  summary: string;
  stopped: boolean;
  timedOut: boolean;
}

/** The command in its own process group, recorded once started: a kill (the signal) or the timeout ends the whole group. */
async function execute(o: RunPromoteOptions, cwd: string, startedId: number): Promise<Executed> {
  const [file, ...args] = o.recipe.command;
  let output = '';
  const keep = (chunk: string) => {
    output = (output + chunk).slice(-WINDOW_CHARS);
  };
  const child = execa(file!, args, { cwd, env: promoteEnv(o.adapter, o.recipe), extendEnv: false, stdin: 'ignore', detached: true, reject: false, buffer: false });
  const pid = child.pid ?? null;
  // The group is on record before anything else happens (the pid is known as soon as it is forked).
  if (pid !== null) {
    try {
      setPromoteGroup(o.db, startedId, pid, processStart(pid)?.start ?? null);
    } catch (error) {
      // Not on record (the database refused the write): the command must not run on unrecorded.
      await endPromoteGroup(pid, GRACE_MS).catch(() => undefined);
      throw error;
    }
  }
  if (pid !== null) o.onStart?.(pid);
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  let stopped = false;
  let timedOut = false;
  const ending: Array<Promise<void>> = [];
  const end = () => {
    if (pid !== null) ending.push(endPromoteGroup(pid, GRACE_MS).catch(() => undefined));
  };
  const stop = () => ((stopped = true), end());
  if (o.signal?.aborted) stop();
  o.signal?.addEventListener('abort', stop, { once: true });
  const timeoutMs = o.recipe.timeoutMinutes * 60_000;
  const timer = setTimeout(() => ((timedOut = true), end()), timeoutMs);
  try {
    const r = await child;
    const exitCode = typeof r.exitCode === 'number' ? r.exitCode : null;
    const signal = r.signal ?? null;
    let summary: string;
    if (stopped) summary = `stopped by ${o.stoppedBy?.() ?? 'its caller'}${signal ? ` (${signal})` : ''}`;
    else if (timedOut) summary = `timed out after ${o.recipe.timeoutMinutes} min and was stopped`;
    else if (exitCode !== null) summary = `exit ${exitCode}`;
    else if (signal) summary = `killed by ${signal}`;
    else summary = `could not start ${file}: ${(r as { code?: string }).code ?? r.message}`;
    if (exitCode === null && !signal && !stopped && !timedOut) keep(`\n[oxi] ${r.message}\n`);
    return { exitCode, signal, pid, output, summary, stopped, timedOut };
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', stop);
    // Background processes the command left in its group go with it; the run is recorded as ended once all are gone.
    end();
    await Promise.all(ending);
  }
}

/** The `promote` effect: the recipe by name, run once; tracked so the engine's stop waits for its ledger row. */
export async function promote(deps: EffectDeps, input: EffectInput<'promote'>, signal: AbortSignal): Promise<PromoteOutput> {
  const recipe = pickRecipe(deps.adapter, input.name);
  // A run the last engine left behind is ended (and recorded) before another starts: never two at once.
  await endInterruptedPromotes({ db: deps.db, clock: deps.clock, notifier: deps.notifier });
  signal.throwIfAborted();
  const stoppedBy = () => (deps.killed?.() ? 'a kill of the engine' : 'the engine stopping');
  const run = runPromote({ db: deps.db, adapter: deps.adapter, clock: deps.clock, recipe, trigger: input.trigger, actor: `promoter:${input.name}`, signal, stoppedBy });
  deps.track?.(run);
  const { runId: _id, ...out } = await run;
  return out;
}

/**
 * The recipe's last run (or arming) and the merges since. A recipe seen for the first time is armed:
 * a `promote.armed` row marks where its schedule starts, so nothing before it (merges, today's slot) runs it.
 */
export async function promoteHistory(deps: EffectDeps, input: EffectInput<'promoteHistory'>): Promise<PromoteHistoryOutput> {
  const latestMerge = latestMergeId(deps.db);
  const last = lastPromoteRow(deps.db, input.name);
  // An interrupted run is recorded when a restart finds it, but it counts from when it started.
  if (last) return { lastRunAt: Number(last.payload.startedAt ?? last.at), mergeCursor: Number(last.payload.mergeId ?? 0), latestMerge };
  return { lastRunAt: deps.clock.now(), mergeCursor: latestMerge, latestMerge, ledger: [{ kind: 'promote.armed', payload: { name: input.name, mergeId: latestMerge } }] };
}
