import type { ClaimOutput } from '../../machines/effects.js';
import type { Clock } from '../clock.js';

export interface PoolOptions {
  clock: Clock;
  /** Global ceiling across hosts: the plan tier's concurrent sessions. */
  planTierMax: number;
  /** How long an overlapping task waits before it asks again. */
  overlapDeferMs: number;
  /** Files of the engine's open PRs (overlap gate). */
  openPrFiles: () => Promise<Array<{ task: string; files: string[] }>>;
  /** Today's spend vs the caps: `exceeded` (hard) stops every claim, `soft` those of new tasks; `until` is when they may resume. */
  budget: () => { exceeded: boolean; soft?: boolean; until: number };
  onLeases?: (host: string, inUse: number) => void;
  /** Dispatch order: lower tier first, then roadmap order. Unknown tasks go last. */
  rank?: (taskId: string) => { tier: number; seq: number } | undefined;
  /** Tasks ranked before `taskId` that are planning or on their way to a claim (they will want a slot soon). */
  pendingAhead?: (taskId: string) => string[];
  /** With several repositories: the task's repository's own caps, asked besides `budget`. */
  repoBudget?: (taskId: string) => { exceeded: boolean; soft?: boolean; until: number };
  /** With several repositories: whether two tasks are of the same repository (only those can overlap). */
  sameRepo?: (a: string, b: string) => boolean;
  /** With several repositories: whether `host` has a clone of the task's repository (a host without one never gets it). */
  hostServes?: (host: string, taskId: string) => boolean;
}

interface Lease {
  host: string;
  files: string[];
}

interface Waiter {
  taskId: string;
  files: string[];
  fresh: boolean;
  resolve: (out: ClaimOutput) => void;
}

/**
 * The dispatch pool: hands host slots to tasks. Leases are derived state — rebuilt at start
 * from the task rows that hold a slot — so a crash can never leak or double one. A task that
 * finds no free slot waits here and is woken the instant a slot frees. When slots are scarce they go
 * strictly by tier, then roadmap order: a waiter never takes the last free slots while a task ranked
 * before it is still being planned.
 */
export class DispatchPool {
  private readonly capacity = new Map<string, number>();
  private readonly blocked = new Set<string>();
  private readonly leases = new Map<string, Lease>();
  /** Files a task has claimed, held from its slot grant until it is merged, abandoned or sent back. */
  private readonly reserved = new Map<string, string[]>();
  private readonly waiters: Waiter[] = [];
  private draining = false;
  private envClosed: string | null = null;

  constructor(private readonly options: PoolOptions) {}

  setCapacity(host: string, capacity: number): void {
    this.capacity.set(host, Math.max(0, capacity));
    this.pump();
  }

  /** Credentials expired (or host unreachable): no dispatch there until unblocked. */
  setBlocked(host: string, blocked: boolean): void {
    if (blocked) this.blocked.add(host);
    else this.blocked.delete(host);
    this.pump();
  }

  /** The machine is out of something launches need (full logs disk): no slot is handed out until cleared. */
  setEnvironmentClosed(reason: string | null): void {
    this.envClosed = reason;
    this.pump();
  }

  /** At start: `host` for a task holding a slot, null for one past it that still owns its files. */
  restoreLease(taskId: string, host: string | null, files: string[]): void {
    if (host) this.leases.set(taskId, { host, files });
    this.reserved.set(taskId, files);
  }

  inUse(host: string): number {
    let n = 0;
    for (const l of this.leases.values()) if (l.host === host) n++;
    return n;
  }

  /** Slots held right now, on every host: sessions that may still spend. */
  inFlight(): number {
    return this.leases.size;
  }

  /** Slots held right now by the tasks `which` picks (e.g. one repository's). */
  inFlightWhere(which: (taskId: string) => boolean): number {
    let n = 0;
    for (const id of this.leases.keys()) if (which(id)) n++;
    return n;
  }

  leaseOf(taskId: string): string | undefined {
    return this.leases.get(taskId)?.host;
  }

  hosts(): Array<{ name: string; capacity: number; inUse: number; blocked: boolean }> {
    return [...this.capacity.keys()].map((name) => ({ name, capacity: this.capacity.get(name) ?? 0, inUse: this.inUse(name), blocked: this.blocked.has(name) }));
  }

  /** Another task changed state (e.g. left planning): a held waiter may now take its slot. */
  poke(): void {
    this.pump();
  }

  /** SIGTERM: stop handing out slots; waiters stay parked until they are stopped. */
  drain(): void {
    this.draining = true;
  }

  /** Today's budget state, through the same gate as a claim (so passing a cap is recorded and notified once). */
  budgetState(): ReturnType<PoolOptions['budget']> {
    return this.options.budget();
  }

  /**
   * A slot for `taskId`, or a deferral. `fresh`: the task has never been dispatched, so past the daily
   * soft cap it does not start today (work already started goes on, until the hard cap).
   */
  async claim(taskId: string, files: string[], signal?: AbortSignal, fresh = false): Promise<ClaimOutput> {
    const existing = this.leases.get(taskId);
    if (existing) return { granted: true, host: existing.host }; // a re-run after restore keeps its host
    const now = this.options.clock.now();
    const refused = this.budgetRefusal(this.options.budget(), taskId, fresh) ?? this.repoBudgetRefusal(taskId, fresh);
    if (refused) return refused;
    const overlap = await this.overlaps(taskId, files);
    if (overlap.length) {
      return {
        granted: false,
        reason: 'overlap',
        until: now + this.options.overlapDeferMs,
        ledger: [{ kind: 'overlap.deferred', payload: { files: overlap } }],
      };
    }
    return new Promise<ClaimOutput>((resolve) => {
      const waiter: Waiter = { taskId, files, fresh, resolve };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      });
      this.pump();
    });
  }

  /** The task left the slot-holding states: its slot frees, its files stay reserved. */
  releaseSlot(taskId: string): void {
    const lease = this.leases.get(taskId);
    if (!lease) return;
    this.leases.delete(taskId);
    this.options.onLeases?.(lease.host, this.inUse(lease.host));
    this.pump();
  }

  /** Merged, abandoned, or back to waiting: slot and files both free. */
  release(taskId: string): void {
    const had = this.reserved.delete(taskId);
    if (this.leases.has(taskId)) this.releaseSlot(taskId);
    else if (had) this.pump();
  }

  private totalInUse(): number {
    return this.leases.size;
  }

  /** Waiters by tier, then roadmap order (stable: equal ranks keep their arrival order). */
  private sortWaiters(): void {
    const rank = this.options.rank;
    if (!rank) return;
    const key = (id: string) => rank(id) ?? { tier: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER };
    this.waiters.sort((a, b) => {
      const ra = key(a.taskId);
      const rb = key(b.taskId);
      return ra.tier - rb.tier || ra.seq - rb.seq;
    });
  }

  /** Better-ranked tasks that will ask for a slot but are neither parked here nor holding one. */
  private comingAhead(taskId: string): number {
    const ahead = this.options.pendingAhead?.(taskId) ?? [];
    return ahead.filter((id) => !this.leases.has(id) && !this.waiters.some((w) => w.taskId === id)).length;
  }

  /** Slots a claim could get right now: under the plan-tier ceiling and free on an unblocked host. */
  private freeSlots(): number {
    let free = 0;
    for (const [host, cap] of this.capacity) if (!this.blocked.has(host)) free += Math.max(0, cap - this.inUse(host));
    return Math.min(free, this.options.planTierMax - this.totalInUse());
  }

  private freeHost(taskId?: string): string | undefined {
    let best: string | undefined;
    let bestFree = 0;
    for (const [host, cap] of this.capacity) {
      if (this.blocked.has(host)) continue;
      if (taskId !== undefined && this.options.hostServes && !this.options.hostServes(host, taskId)) continue;
      const free = cap - this.inUse(host);
      if (free > bestFree) {
        best = host;
        bestFree = free;
      }
    }
    return best;
  }

  /** The hard cap refuses every claim; the soft cap only a fresh task's (one never dispatched). */
  private budgetRefusal(budget: ReturnType<PoolOptions['budget']>, taskId: string, fresh: boolean): ClaimOutput | undefined {
    if (budget.exceeded) return { granted: false, reason: 'budget', until: budget.until, ledger: [{ kind: 'budget.hard_cap', payload: { task: taskId } }] };
    if (fresh && budget.soft) return { granted: false, reason: 'soft_budget', until: budget.until, ledger: [{ kind: 'budget.soft_cap', payload: { task: taskId } }] };
    return undefined;
  }

  /** The repository's own caps (`repos[].budget`): recorded as the global ones are, with the repository named. */
  private repoBudgetRefusal(taskId: string, fresh: boolean): ClaimOutput | undefined {
    const budget = this.options.repoBudget?.(taskId);
    const refused = budget && this.budgetRefusal(budget, taskId, fresh);
    if (!refused || refused.granted) return refused;
    return { ...refused, ledger: (refused.ledger ?? []).map((l) => ({ ...l, payload: { ...l.payload, scope: 'repo' } })) };
  }

  private pump(): void {
    while (!this.draining && this.envClosed === null && this.waiters.length && this.totalInUse() < this.options.planTierMax) {
      const host = this.freeHost();
      if (!host) return;
      // Spend may have passed a cap while these tasks waited: the caps hold for waiters too.
      const budget = this.options.budget();
      const refusal = (w: Waiter) => this.budgetRefusal(budget, w.taskId, w.fresh) ?? this.repoBudgetRefusal(w.taskId, w.fresh);
      const refusedAt = this.waiters.findIndex((w) => refusal(w));
      if (refusedAt >= 0) {
        const [w] = this.waiters.splice(refusedAt, 1);
        w.resolve(refusal(w)!);
        continue;
      }
      this.sortWaiters();
      // Overlap with a task that took a slot while this one waited: skip it, it is re-checked later.
      const index = this.waiters.findIndex((w) => !this.overlapsLeases(w.taskId, w.files).length);
      if (index < 0) {
        const w = this.waiters.shift()!;
        w.resolve({ granted: false, reason: 'overlap', until: this.options.clock.now() + this.options.overlapDeferMs, ledger: [{ kind: 'overlap.deferred', payload: { files: this.overlapsLeases(w.taskId, w.files) } }] });
        continue;
      }
      // A waiter whose repository no free host has a clone of stays parked; the next one may go (all may, with one repository).
      const placed = this.options.hostServes ? this.waiters.findIndex((w) => !this.overlapsLeases(w.taskId, w.files).length && this.freeHost(w.taskId) !== undefined) : index;
      if (placed < 0) return;
      // Slots that better-ranked tasks still in planning will ask for are theirs: the waiter stays parked (poke() re-checks).
      if (this.freeSlots() <= this.comingAhead(this.waiters[placed]!.taskId)) return;
      const [w] = this.waiters.splice(placed, 1);
      const slotHost = this.options.hostServes ? this.freeHost(w.taskId)! : host;
      this.leases.set(w.taskId, { host: slotHost, files: w.files });
      this.reserved.set(w.taskId, w.files);
      this.options.onLeases?.(slotHost, this.inUse(slotHost));
      w.resolve({ granted: true, host: slotHost });
    }
  }

  private overlapsLeases(taskId: string, files: string[]): string[] {
    const mine = new Set(files);
    const hits = new Set<string>();
    for (const [other, reservedFiles] of this.reserved) {
      if (other === taskId || (this.options.sameRepo && !this.options.sameRepo(taskId, other))) continue;
      for (const f of reservedFiles) if (mine.has(f)) hits.add(f);
    }
    return [...hits];
  }

  private async overlaps(taskId: string, files: string[]): Promise<string[]> {
    if (!files.length) return [];
    const mine = new Set(files);
    const hits = new Set(this.overlapsLeases(taskId, files));
    for (const pr of await this.options.openPrFiles()) {
      if (pr.task === taskId || (this.options.sameRepo && !this.options.sameRepo(taskId, pr.task))) continue;
      for (const f of pr.files) if (mine.has(f)) hits.add(f);
    }
    return [...hits];
  }
}
