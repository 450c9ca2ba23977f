/**
 * Durable termination of workers' process groups. When the engine decides to terminate a group (a hard
 * kill, a drain), it first records (host, pid) in `kill_group`, then asks the host. A group on a healthy
 * host goes at once and its row is cleared; a group on a host that is unreachable right now stays
 * recorded and is tried again every probe interval, and at every start, until its host answers. Nothing
 * here ever rejects: a failure is a row with its last error, never a crash.
 */
import type { Clock } from '../../src/clock.js';
import type { HostTransport } from '../../src/ports.js';
import type { Db } from '../../src/store/db.js';
import { clearKillGroup, noteKillGroupFailure, pendingKillGroups, recordKillGroup, type KillGroupRow } from '../../src/store/kill-groups.js';

export interface GroupTerminatorOptions {
  db: Db;
  clock: Clock;
  hosts: Map<string, HostTransport>;
  /** How often recorded groups are tried again while some remain (the host probe interval). */
  retryMs: number;
  log?: (line: string) => void;
  /** Grace between TERM and KILL (ms). */
  graceMs?: number;
}

export class GroupTerminator {
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly o: GroupTerminatorOptions) {}

  /** Records the group, then terminates it; resolves (never rejects) once tried. */
  terminate(host: string, pid: number, task: string | null, reason: string): Promise<void> {
    try {
      recordKillGroup(this.o.db, { host, pid, task, reason, at: this.o.clock.now() });
    } catch (error) {
      // Not recorded (the database failed): still try to terminate it now.
      this.o.log?.(`oxi: could not record process group ${pid} on host "${host}" before terminating it: ${(error as Error).message}`);
    }
    this.arm();
    return this.attempt(host, pid);
  }

  /** Tries every recorded group again (at start, and on the timer while some remain). Never rejects, never throws. */
  retryAll(): Promise<void> {
    let rows: KillGroupRow[];
    try {
      rows = pendingKillGroups(this.o.db);
    } catch {
      return Promise.resolve(); // the database is closing: the rows wait for the next start
    }
    return Promise.all(rows.map((g) => this.attempt(g.host, g.pid))).then(() => undefined);
  }

  /** Starts the retry timer if groups are recorded (called at start). */
  start(): Promise<void> {
    const left = pendingKillGroups(this.o.db).length;
    if (left) {
      this.o.log?.(`oxi: ${left} recorded process group(s) still to terminate: trying now`);
      this.arm();
    }
    return this.retryAll();
  }

  /** Stops retrying; waits for the attempts in flight. Rows left stay for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private arm(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      let left = 0;
      try {
        left = pendingKillGroups(this.o.db).length;
      } catch {
        left = 0; // the database is closing
      }
      if (!left) {
        clearInterval(this.timer);
        this.timer = undefined;
        return;
      }
      void this.retryAll();
    }, this.o.retryMs);
    this.timer.unref?.();
  }

  /** One try per group at a time: an attempt already running is joined, not doubled. */
  private attempt(host: string, pid: number): Promise<void> {
    const key = `${host}\u0000${pid}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const p = this.tryOnce(host, pid).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async tryOnce(host: string, pid: number): Promise<void> {
    const transport = this.o.hosts.get(host);
    try {
      if (!transport) throw new Error(`host "${host}" is no longer configured`);
      // Tries are paced (one per group per retry interval): each may dial, so a healed host is seen at once.
      transport.redial?.();
      await transport.killGroup(pid, this.o.graceMs);
      clearKillGroup(this.o.db, host, pid);
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      try {
        noteKillGroupFailure(this.o.db, host, pid, message);
      } catch {
        // The database is closing (engine stopped): the row stays as it was, for the next start.
      }
      this.o.log?.(`oxi: could not terminate process group ${pid} on host "${host}" yet (${message}); it is recorded and tried again when the host answers`);
    }
  }
}
