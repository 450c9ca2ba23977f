import { refuseEvent } from './accepted-events.js';
import { forgetForgeToken } from './env.js';
import type { Server } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import type { Adapter } from '../config/schema.js';
import type { Db } from '../store/db.js';
import { countsByStatus } from '../store/tasks.js';
import { readKillswitch } from '../store/engine-state.js';
import { appendEvent } from '../store/ledger.js';
import { serveControl, socketPath, type ControlRequest, type ControlResponse } from './control.js';
import { startEngine, type EngineHandle, type StartEngineOptions } from './engine.js';
import { recordLiveConfig } from './live-config.js';
import { claimPidFile } from './pidfile.js';
import { snapshotSummary } from './summary.js';

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

const PARKED = new Set(['deferred', 'backoff', 'pr_backoff', 'awaiting_human', 'held']);

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
  const onUnhandled = (reason: unknown) => {
    const message = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
    log(`oxi: unhandled promise rejection (the daemon keeps running; please report it): ${message}`);
    try {
      appendEvent(db, { at: clock.now(), actor: 'engine', kind: 'engine.unhandled_rejection', payload: { error: reason instanceof Error ? reason.message : String(reason) } });
    } catch {
      // The database is what failed: the log line above is the record.
    }
  };
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

  let server: Server | undefined;
  const handle = (req: ControlRequest): ControlResponse => {
    if (req.op === 'ping') return { ok: true, pid: process.pid };
    if (req.op === 'status') return { ok: true, ...snapshotSummary(db, engine), config: config ?? null };
    if (req.op === 'send') {
      const ref = req.actor === 'engine' ? engine.actor : engine.actor.system.get(req.actor);
      const refused = ref && refuseEvent(req.actor, ref, req.event.type);
      if (refused) return { ok: false, error: refused };
      const delivered = engine.send(req.actor, req.event);
      return delivered ? { ok: true, delivered: true } : { ok: false, error: `No live actor "${req.actor}". Live actors: ${liveActors(engine).join(', ')}` };
    }
    return { ok: false, error: `Unknown control op ${JSON.stringify((req as { op?: unknown }).op)}` };
  };
  server = await serveControl(socket, handle);

  // The killswitch may be flipped by a CLI with no socket access: the DB row is the truth.
  const killPoll = setInterval(() => {
    const row = readKillswitch(db);
    const state = engine.actor.system.get('engineState')?.getSnapshot();
    if (!state) return;
    if (row.killed && (state.value !== 'killed' || (row.hard && !state.context.hard))) {
      engine.send('engineState', { type: 'engine.kill', reason: row.reason ?? 'killed', by: row.by ?? 'cli', hard: row.hard });
    } else if (!row.killed && state.value === 'killed') {
      engine.send('engineState', { type: 'engine.unkill', by: row.by ?? 'cli' });
    }
  }, 250);

  let quietSince: number | undefined;
  const settlePoll = setInterval(() => {
    if (engine.engineStatus() === 'halted') {
      const reason = engine.actor.getSnapshot().context.haltReason as string;
      void engine.ports.notifier.notify({ kind: 'escalation', severity: 'error', title: `oxi halted: ${reason}` });
      void stop({ code: 3, reason }, false);
      return;
    }
    if (options.until === undefined || options.until === 'forever') return;
    const counts = countsByStatus(db);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const terminal = (counts.merged ?? 0) + (counts.abandoned ?? 0);
    if (total > 0 && terminal === total) return void stop({ code: 0, reason: 'settled: every task is merged or abandoned' }, true);
    if (options.until === 'quiet') {
      const live = engine.liveTasks();
      const queued = counts.queued ?? 0;
      const parked = live.every((t) => PARKED.has(t.status)) && (queued === 0 || live.length >= adapter.engine.maxLiveTasks || readKillswitch(db).killed);
      if (parked && total > 0) {
        quietSince ??= Date.now();
        if (Date.now() - quietSince > 1500) void stop({ code: 0, reason: 'quiet: nothing left to do in this pass' }, true);
      } else quietSince = undefined;
    }
  }, 200);

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

function liveActors(engine: EngineHandle): string[] {
  return Object.keys(engine.actor.getSnapshot().children as object).sort();
}
