import { closeSync, fsyncSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirPrivate, openPrivate } from '../fs-private.js';
import type { Clock } from '../clock.js';
import type { Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { appendEvent } from '../store/ledger.js';
import { environmentErrorCode } from './environment-errors.js';

/** The probe's file in the logs dir (a fixed name: a failed probe's leftover is reused, never piled up). */
export function probePath(logsDir: string): string {
  return join(logsDir, '.oxi-write-probe');
}

/**
 * Can the logs dir take a write right now? Writes, fsyncs and unlinks a small file; throws the
 * file system's error (ENOSPC…) if not. A failed probe leaves its file: removing it gains no space,
 * and the next successful probe removes it.
 */
export function probeLogsDir(logsDir: string): void {
  mkdirPrivate(logsDir, { own: true });
  const file = probePath(logsDir);
  const fd = openPrivate(file, 'w');
  try {
    writeSync(fd, Buffer.alloc(4096, 0x2e));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(file);
}

export interface EnvironmentGateOptions {
  db: Db;
  clock: Clock;
  logsDir: string;
  /** How often the logs dir is probed while dispatch is closed. */
  probeIntervalMs: number;
  notifier?: Notifier;
  /** Told when dispatch closes (with the reason) and when it reopens (null). */
  onChange: (closedBecause: string | null) => void;
  /** The probe; tests and simulations may point it elsewhere. */
  probe?: () => void;
}

const BLOCKED = 'dispatch.env_blocked';
const CLEARED = 'dispatch.env_cleared';

/** Why dispatch is paused by the environment right now, from the ledger (the gate's latch), or null. */
export function dispatchPausedReason(db: Db): string | null {
  return pausedSince(db)?.reason ?? null;
}

function pausedSince(db: Db): { reason: string; at: number } | undefined {
  const last = db.prepare(`SELECT kind, at, payload FROM event WHERE kind IN (?, ?) ORDER BY id DESC LIMIT 1`).get(BLOCKED, CLEARED) as { kind: string; at: number; payload: string } | undefined;
  return last?.kind === BLOCKED ? { reason: String(JSON.parse(last.payload).error ?? 'an environment error'), at: last.at } : undefined;
}

/**
 * Closes dispatch while the machine is out of something a launch needs (a full logs disk, no file
 * descriptors): launches would only fail, and each failure would spend an attempt. One ledger row
 * and one notification when it closes, one row when a probe of the logs dir succeeds and it reopens.
 * The state survives a restart through the ledger: a restart while closed stays closed and probes.
 */
export class EnvironmentGate {
  private closedBecause: string | null = null;
  private closedAt = 0;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly options: EnvironmentGateOptions) {
    const paused = pausedSince(options.db);
    if (paused) {
      this.closedBecause = paused.reason;
      this.closedAt = paused.at;
      options.onChange(this.closedBecause);
      this.schedule(0);
    }
  }

  /** A launch failed with an environment error: close dispatch (once) and start probing. */
  block(error: unknown): void {
    if (this.closedBecause !== null || this.stopped) return;
    const code = environmentErrorCode(error) ?? 'unknown';
    const message = error instanceof Error ? error.message : String(error);
    this.closedBecause = `${code}: ${message}`.slice(0, 300);
    this.closedAt = this.options.clock.now();
    this.options.onChange(this.closedBecause);
    this.schedule(this.options.probeIntervalMs);
    // The database may sit on the full disk too: the gate closes and probes even when this row cannot be written.
    tryAppend(this.options.db, { at: this.closedAt, actor: 'engine', kind: BLOCKED, payload: { code, error: this.closedBecause, logsDir: this.options.logsDir } });
    this.options.notifier
      ?.notify({
        kind: BLOCKED,
        title: `Dispatch paused: ${code} while launching an agent. No task is dispatched until ${this.options.logsDir} takes a write again (probed every ${Math.round(this.options.probeIntervalMs / 1000)} s); no attempt is spent meanwhile.`,
        severity: 'error',
      })
      .catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => this.probeNow(), ms);
  }

  private probeNow(): void {
    this.timer = undefined;
    if (this.stopped || this.closedBecause === null) return;
    try {
      (this.options.probe ?? (() => probeLogsDir(this.options.logsDir)))();
    } catch {
      // Still out of space (or of descriptors): stay closed, look again later.
      this.schedule(this.options.probeIntervalMs);
      return;
    }
    const now = this.options.clock.now();
    tryAppend(this.options.db, { at: now, actor: 'engine', kind: CLEARED, payload: { closedMs: now - this.closedAt, logsDir: this.options.logsDir } });
    this.closedBecause = null;
    this.options.onChange(null);
  }
}

/** The gate's rows are its latch across restarts; in this process its state is in memory, so a failed write (SQLITE_FULL) must not leave it half-closed. */
function tryAppend(db: Db, entry: Parameters<typeof appendEvent>[1]): void {
  try {
    appendEvent(db, entry);
  } catch {
    // The persister fails on the same disk and stops the daemon; nothing more to do here.
  }
}
