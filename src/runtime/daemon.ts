import { isShardId } from '../../machines/engine.js';
import { refuseEvent } from './accepted-events.js';
import { forgetForgeToken } from '../agents/env.js';
import type { Server } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import type { Adapter } from '../config/schema.js';
import type { Db } from '../store/db.js';
import { countsByStatus } from '../store/tasks.js';
import { readKillswitch } from '../store/engine-state.js';
import { appendEvent } from '../store/ledger.js';
import { serveControl, socketPath, type ControlRequest, type ControlResponse } from './control.js';
import { startEngine, type EngineHandle, type StartEngineOptions } from './engine.js';
import { recordLiveConfig, type LiveConfig } from './live-config.js';
import { claimPidFile } from './pidfile.js';
import { snapshotSummary } from './summary.js';
import { PARKED_TASK_STATUSES } from '../../machines/status.js';

export interface DaemonOptions extends Partial<Omit<StartEngineOptions, 'adapter' | 'db' | 'clock'>> {
  adapter: Adapter;
  db: Db;
  clock?: Clock;
  /** demo: stop when every task is terminal; tick: also when everything left is parked. */
  until?: 'forever' | 'settled' | 'quiet';
  log?: (line: string) => void;
  /** Handle SIGTERM/SIGINT (the CLI daemon does; tests driving it in-process do not). */
  signals?: boolean;
  onStarted?: (engine: EngineHandle) => void;
  /** Log and record an unhandled promise rejection instead of exiting (default: on for the CLI daemon, i.e. with signals). */
  surviveUnhandled?: boolean;
}

export type DaemonExit = { code: 0 | 1 | 3; reason: string };

const PARKED = new Set(PARKED_TASK_STATUSES);

/**
 * The long-running loop: PID file, control socket, killswitch watch, signals, and the stop
 * conditions. Returns the exit code instead of exiting (only the CLI entry point exits).
 */
export async function runDaemon(options: DaemonOptions): Promise<DaemonExit> {
  const { adapter, db } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const stateDir = adapter.paths.stateDir;
  const socket = socketPath(stateDir);
  const claim = claimPidFile(stateDir, socket);
  const releasePid = claim.release;
  if (claim.stale) log(`oxi: stale pid file replaced: pid ${claim.stale.pid} (started ${new Date(claim.stale.startedAt).toISOString()}) no longer holds the daemon lock`);
  // Read once, here: nothing reloads the adapter while the daemon runs (docs/security.md, "Live config").
  const config = await recordLiveConfig(db, adapter.source, clock.now()).catch((error: unknown) => {
    releasePid();
    throw error;
  });
  if (config && !config.commit) log(`oxi: the adapter ${config.path} is not the content of a commit (uncommitted edits, or untracked): a config change should come from a commit a human merged or approved`);
  let finish!: (exit: DaemonExit) => void;
  const done = new Promise<DaemonExit>((resolve) => (finish = resolve));
  let stopping = false;

  // A promise rejection nobody handled is a bug, not a reason to stop: log it, record it, keep running
  // (Node's default would exit and leave every agent unwatched). Tests assert that none is ever recorded.
  const onUnhandled = unhandledRecorder(db, clock, log);
  const survive = options.surviveUnhandled ?? options.signals === true;
  if (survive) process.on('unhandledRejection', onUnhandled);

  const engine = startEngine({
    ...options,
    log,
    adapter,
    db,
    clock,
    onFatal: (error) => void stop({ code: 1, reason: `fatal: ${(error as Error)?.message ?? String(error)}` }, false),
  });
  options.onStarted?.(engine);
  // The forge holds its token now: no child of the daemon may inherit it (contract 3.7).
  forgetForgeToken(adapter);

  const server: Server | undefined = await serveControl(socket, controlHandler(db, engine, config));

  // The killswitch may be flipped by a CLI with no socket access: the DB row is the truth.
  const killPoll = setInterval(() => syncKillswitch(db, engine), 250);
  const settle = settleCheck(options, engine, (exit, drain) => void stop(exit, drain));
  const settlePoll = setInterval(settle, 200);

  const onSignal = (signal: string) => {
    log(`oxi: ${signal} received: draining (up to ${adapter.engine.drainTimeoutMs} ms)`);
    void stop({ code: 0, reason: `${signal}: drained` }, true);
  };
  if (options.signals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  async function stop(exit: DaemonExit, drain: boolean) {
    if (stopping) return;
    stopping = true;
    clearInterval(killPoll);
    clearInterval(settlePoll);
    try {
      if (drain) await engine.drain();
      else await engine.stop();
    } finally {
      server?.close();
      releasePid();
      if (options.signals) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      if (survive) process.off('unhandledRejection', onUnhandled);
      finish(exit);
    }
  }

  return done;
}

/** A promise rejection nobody handled: logged and recorded, never a reason to stop. */
function unhandledRecorder(db: DaemonOptions['db'], clock: Clock, log: (line: string) => void) {
  return (reason: unknown): void => {
    const message = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
    log(`oxi: unhandled promise rejection (the daemon keeps running; please report it): ${message}`);
    try {
      appendEvent(db, { at: clock.now(), actor: 'engine', kind: 'engine.unhandled_rejection', payload: { error: reason instanceof Error ? reason.message : String(reason) } });
    } catch {
      // The database is what failed: the log line above is the record.
    }
  };
}

/** The control socket's answers: ping, status, send. */
function controlHandler(db: DaemonOptions['db'], engine: EngineHandle, config: LiveConfig | undefined) {
  return (req: ControlRequest): ControlResponse => {
    if (req.op === 'ping') return { ok: true, pid: process.pid };
    if (req.op === 'status') return { ok: true, ...snapshotSummary(db, engine), config: config ?? null };
    if (req.op === 'send') {
      // An event the actor's machine does not take is refused with the ones it does (nothing is sent).
      const ref = req.actor === 'engine' ? engine.actor : engine.actor.system.get(req.actor);
      const refused = ref && refuseEvent(req.actor, ref, req.event.type);
      if (refused) return { ok: false, error: refused };
      const delivered = engine.send(req.actor, req.event);
      return delivered ? { ok: true, delivered: true } : { ok: false, error: `No live actor "${req.actor}". Live actors: ${liveActors(engine).join(', ')}` };
    }
    return { ok: false, error: `Unknown control op ${JSON.stringify((req as { op?: unknown }).op)}` };
  };
}

/** The killswitch may be flipped by a CLI with no socket access: the DB row is the truth, the engine follows it. */
function syncKillswitch(db: DaemonOptions['db'], engine: EngineHandle): void {
  const row = readKillswitch(db);
  const state = engine.actor.system.get('engineState')?.getSnapshot();
  if (!state) return;
  if (row.killed && (state.value !== 'killed' || (row.hard && !state.context.hard))) {
    engine.send('engineState', { type: 'engine.kill', reason: row.reason ?? 'killed', by: row.by ?? 'cli', hard: row.hard });
  } else if (!row.killed && state.value === 'killed') {
    engine.send('engineState', { type: 'engine.unkill', by: row.by ?? 'cli' });
  }
}

/** The stop conditions, checked on a timer: halted (exit 3), settled, or quiet for 1.5 s when asked to run until quiet. */
function settleCheck(options: DaemonOptions, engine: EngineHandle, stop: (exit: DaemonExit, drain: boolean) => void): () => void {
  const { db, adapter } = options;
  let quietSince: number | undefined;
  return () => {
    if (engine.engineStatus() === 'halted') {
      const reason = engine.actor.getSnapshot().context.haltReason as string;
      void engine.ports.notifier.notify({ kind: 'escalation', severity: 'error', title: `oxi halted: ${reason}` });
      return stop({ code: 3, reason }, false);
    }
    if (options.until === undefined || options.until === 'forever') return;
    const counts = countsByStatus(db);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const terminal = (counts.merged ?? 0) + (counts.abandoned ?? 0);
    if (total > 0 && terminal === total) return stop({ code: 0, reason: 'settled: every task is merged or abandoned' }, true);
    if (options.until !== 'quiet') return;
    const live = engine.liveTasks();
    const queued = counts.queued ?? 0;
    const parked = live.every((t) => PARKED.has(t.status)) && (queued === 0 || live.length >= adapter.engine.maxLiveTasks || readKillswitch(db).killed);
    if (parked && total > 0) {
      quietSince ??= Date.now();
      if (Date.now() - quietSince > 1500) stop({ code: 0, reason: 'quiet: nothing left to do in this pass' }, true);
    } else quietSince = undefined;
  };
}

/** The actors `oxi send` can reach: the engine's own children (shards aside) and every live task. */
function liveActors(engine: EngineHandle): string[] {
  const own = Object.keys(engine.actor.getSnapshot().children as object).filter((id) => !isShardId(id));
  return [...own, ...engine.liveTasks().map((t) => `task:${t.id}`)].sort();
}
