import type { Clock } from '../clock.js';
import type { Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { appendEvent } from '../store/ledger.js';
import { lastEventOfKinds } from '../store/ledger-queries.js';

/**
 * One gate mechanism for everything an outage can close: the local environment (a full logs disk), each
 * agent backend (a persistent rate limit, bad credentials) and the forge (a rejected token). Closed, it
 * writes one ledger row and sends one notification; it probes on a backoff — actively (a timer runs a
 * probe) or passively (the next real call after the probe time is let through as the probe) — and
 * reopens by itself with one row. Its rows are its latch across restarts.
 */
export interface GateOptions {
  db: Db;
  clock: Clock;
  notifier?: Notifier;
  /** What it guards, for rows and status: `environment`, `agent:claude`, `forge`. */
  name: string;
  /** Ledger kinds of its two rows; `subject` is added to both payloads so one kind can serve several gates. */
  closedKind: string;
  openedKind: string;
  subject?: Record<string, unknown>;
  /** First probe delay and the cap of its doubling. */
  probeBaseMs: number;
  probeMaxMs?: number;
  /** Active probe: throws while the cause lasts. Without one, the gate is probed by the next admitted call. */
  probe?: () => void;
  /** The notification's title when it closes. */
  describeClose: (reason: string, resetAt: number | undefined) => string;
  onChange?: (closedBecause: string | null) => void;
}

export interface GateState {
  name: string;
  closed: boolean;
  reason: string | null;
  since: number | null;
  /** When the provider said it resets (epoch ms), if it said. */
  resetAt: number | null;
  /** When the next probe runs (or the next call is let through). */
  nextProbeAt: number | null;
}

/** A passive probe that never reports back (a worker lost) stops blocking the next one after this. */
const PROBE_GRACE_MS = 30 * 60_000;

export class Gate {
  private reason: string | null = null;
  private since = 0;
  private resetAt: number | undefined;
  private nextProbeAt = 0;
  private probes = 0;
  private probingUntil = 0;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly options: GateOptions) {
    const last = lastRow(options);
    if (last?.kind === options.closedKind) {
      const payload = JSON.parse(last.payload) as { reason?: string; error?: string; resetAt?: number };
      this.reason = String(payload.reason ?? payload.error ?? 'closed');
      this.since = last.at;
      if (typeof payload.resetAt === 'number') this.resetAt = payload.resetAt;
      // A restart while closed: probe at once (or at the reset time), the cause may be gone.
      this.nextProbeAt = Math.max(options.clock.now(), this.resetAt ?? 0);
      options.onChange?.(this.reason);
      this.schedule(this.nextProbeAt - options.clock.now());
    }
  }

  get closed(): boolean {
    return this.reason !== null;
  }

  state(): GateState {
    return {
      name: this.options.name,
      closed: this.closed,
      reason: this.reason,
      since: this.closed ? this.since : null,
      resetAt: this.closed ? this.resetAt ?? null : null,
      nextProbeAt: this.closed ? this.nextProbeAt : null,
    };
  }

  /** Closes (once): one row, one notification; the first probe at the reset time, else after the base delay. */
  close(reason: string, resetAt?: number, payload: Record<string, unknown> = {}): void {
    if (this.closed || this.stopped) return;
    const now = this.options.clock.now();
    this.reason = reason.slice(0, 300);
    this.since = now;
    this.resetAt = resetAt;
    this.probes = 0;
    this.nextProbeAt = Math.max(resetAt ?? 0, now + this.options.probeBaseMs);
    this.options.onChange?.(this.reason);
    this.schedule(this.nextProbeAt - now);
    // The database may sit on a full disk: the gate closes and probes even when this row cannot be written.
    tryAppend(this.options.db, { at: now, actor: 'engine', kind: this.options.closedKind, payload: { ...this.options.subject, reason: this.reason, resetAt: resetAt ?? null, ...payload } });
    this.options.notifier?.notify({ kind: this.options.closedKind, title: this.options.describeClose(this.reason, resetAt), severity: 'error' }).catch(() => undefined);
  }

  /** The cause is gone (a probe or a real call succeeded): reopen with one row. */
  open(payload: Record<string, unknown> = {}): void {
    if (!this.closed) return;
    const now = this.options.clock.now();
    tryAppend(this.options.db, { at: now, actor: 'engine', kind: this.options.openedKind, payload: { ...this.options.subject, closedMs: now - this.since, ...payload } });
    this.reason = null;
    this.resetAt = undefined;
    this.probingUntil = 0;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.options.onChange?.(null);
  }

  /**
   * May a call go through now? Open: yes. Closed: only one, as the probe, once the probe time has come
   * (passive gates); the caller reports how it went with `probeFailed` or `open`.
   */
  admit(): boolean {
    if (!this.closed) return true;
    const now = this.options.clock.now();
    if (this.options.probe || now < this.nextProbeAt || now < this.probingUntil) return false;
    this.probingUntil = now + PROBE_GRACE_MS;
    return true;
  }

  /** The probe (active or passive) met the cause again: next probe after a doubled delay, never before a reset time. */
  probeFailed(resetAt?: number): void {
    // Passive: only the admitted probe's answer counts (sessions already in flight when it closed say nothing new).
    if (!this.closed || (!this.options.probe && this.probingUntil === 0)) return;
    const now = this.options.clock.now();
    this.probes++;
    if (resetAt !== undefined) this.resetAt = resetAt;
    const delay = Math.min(this.options.probeMaxMs ?? Number.POSITIVE_INFINITY, this.options.probeBaseMs * 2 ** this.probes);
    this.nextProbeAt = Math.max(resetAt ?? 0, now + delay);
    this.probingUntil = 0;
    this.schedule(this.nextProbeAt - now);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped || !this.options.probe) return;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = this.options.clock.setTimeout(() => this.probeNow(), Math.max(0, ms));
  }

  private probeNow(): void {
    this.timer = undefined;
    if (this.stopped || !this.closed) return;
    try {
      this.options.probe!();
    } catch {
      // Still there: stay closed, look again later (active probes keep a steady interval).
      this.nextProbeAt = this.options.clock.now() + this.options.probeBaseMs;
      this.schedule(this.options.probeBaseMs);
      return;
    }
    this.open();
  }
}

function lastRow(options: GateOptions): { kind: string; at: number; payload: string } | undefined {
  const subject = Object.fromEntries(Object.entries(options.subject ?? {}).map(([k, v]) => [k, v as string]));
  return lastEventOfKinds(options.db, [options.closedKind, options.openedKind], subject);
}

/** The gate's rows are its latch across restarts; in this process its state is in memory, so a failed write (SQLITE_FULL) must not leave it half-closed. */
function tryAppend(db: Db, entry: Parameters<typeof appendEvent>[1]): void {
  try {
    appendEvent(db, entry);
  } catch {
    // The persister fails on the same disk and stops the daemon; nothing more to do here.
  }
}
