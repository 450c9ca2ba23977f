import type { Clock } from '../../src/clock.js';

/**
 * A simulated clock that a driver moves from one timer deadline to the next, letting the
 * engine's promises settle in between: days of polling loops run in seconds.
 */
export class SimClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: (...args: unknown[]) => void; seq: number }>();

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn, seq: id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** The earliest pending deadline, if any. */
  nextAt(): number | undefined {
    let best: number | undefined;
    for (const t of this.timers.values()) if (best === undefined || t.at < best) best = t.at;
    return best;
  }

  /** Fires every timer due at or before `at` that exists now (in deadline order), then sets the time. */
  fireUntil(at: number): number {
    const due = [...this.timers.entries()].filter(([, t]) => t.at <= at).sort((a, b) => a[1].at - b[1].at || a[1].seq - b[1].seq);
    for (const [id, t] of due) {
      if (!this.timers.delete(id)) continue; // cleared by an earlier timer
      this.current = Math.max(this.current, t.at);
      t.fn();
    }
    this.current = Math.max(this.current, at);
    return due.length;
  }

  pending(): number {
    return this.timers.size;
  }
}
