import { closeSync, fsyncSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirPrivate, openPrivate } from '../fs-private.js';
import type { Clock } from '../clock.js';
import type { Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { Gate } from './gate.js';
import { environmentErrorCode } from './environment-errors.js';
import { lastEventOfKinds } from '../store/ledger-queries.js';

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
  const last = lastEventOfKinds(db, [BLOCKED, CLEARED]);
  if (last?.kind !== BLOCKED) return null;
  const payload = JSON.parse(last.payload) as { error?: string; reason?: string };
  return String(payload.error ?? payload.reason ?? 'an environment error');
}

/**
 * Closes dispatch while the machine is out of something a launch needs (a full logs disk, no file
 * descriptors): launches would only fail. The environment's instance of the one gate mechanism
 * (./gate.ts) with an active probe: a write to the logs dir every probe interval.
 */
export class EnvironmentGate {
  private readonly gate: Gate;

  constructor(private readonly options: EnvironmentGateOptions) {
    this.gate = new Gate({
      db: options.db,
      clock: options.clock,
      ...(options.notifier ? { notifier: options.notifier } : {}),
      name: 'environment',
      closedKind: BLOCKED,
      openedKind: CLEARED,
      probeBaseMs: options.probeIntervalMs,
      probe: options.probe ?? (() => probeLogsDir(options.logsDir)),
      onChange: options.onChange,
      describeClose: (reason) =>
        `Dispatch paused: ${reason.split(':')[0]} while launching an agent. No task is dispatched until ${options.logsDir} takes a write again (probed every ${Math.round(options.probeIntervalMs / 1000)} s); no attempt is spent meanwhile.`,
    });
  }

  /** A launch failed with an environment error: close dispatch (once) and start probing. */
  block(error: unknown): void {
    const code = environmentErrorCode(error) ?? 'unknown';
    const message = error instanceof Error ? error.message : String(error);
    const reason = `${code}: ${message}`.slice(0, 300);
    this.gate.close(reason, undefined, { code, error: reason, logsDir: this.options.logsDir });
  }

  state() {
    return this.gate.state();
  }

  stop(): void {
    this.gate.stop();
  }
}
