import type { Clock } from '../../src/clock.js';

/**
 * Real time from a chosen instant, that can jump forward (to the next UTC day, say): the engine runs
 * at real speed, and a jump fires at once every timer whose deadline it passed.
 */
export class JumpClock implements Clock {
  private offset: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: (...args: unknown[]) => void; handle: NodeJS.Timeout }>();

  constructor(startAt: number) {
    this.offset = startAt - Date.now();
  }

  now(): number {
    return Date.now() + this.offset;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    const id = ++this.seq;
    this.arm(id, this.now() + Math.max(0, ms), fn);
    return id;
  }

  clearTimeout(handle: unknown): void {
    const t = this.timers.get(handle as number);
    if (!t) return;
    clearTimeout(t.handle);
    this.timers.delete(handle as number);
  }

  /** Moves time to `at` (never back); timers keep their deadlines. */
  jumpTo(at: number): void {
    this.offset += Math.max(0, at - this.now());
    for (const [id, t] of [...this.timers]) {
      clearTimeout(t.handle);
      this.arm(id, t.at, t.fn);
    }
  }

  private arm(id: number, at: number, fn: (...args: unknown[]) => void): void {
    const handle = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.min(2 ** 31 - 1, Math.max(0, at - this.now())));
    this.timers.set(id, { at, fn, handle });
  }
}
