import type { ChecksResult, Forge, MergeResult, OpenPrInput, PullRequest } from '../../src/ports.js';
import { ForgeError } from '../../src/errors.js';
import type { Population } from './population.js';

type Pr = PullRequest & { files: string[] };

export interface ForgeObserver {
  killed(): boolean;
  violation(what: string, task: string): void;
}

/**
 * An in-memory forge with GitHub's failure modes: 5xx, 429 and secondary rate limits at a
 * given rate, and a "human" who merges or closes PRs behind the engine's back. Counts every
 * PR opened and every merge per task, so "at most one of each" can be checked.
 */
export class SimForge implements Forge {
  readonly kind = 'sim';
  private readonly prs = new Map<number, Pr>();
  private next = 1;
  readonly opened = new Map<string, number>();
  readonly merges = new Map<string, number>();
  readonly faults = { served: 0, injected: 0, behindBack: 0 };
  /** Probability that one API call fails (5xx, 429, secondary limit). */
  faultRate = 0;

  constructor(
    private readonly rand: () => number,
    private readonly population: Population,
    private readonly observer: ForgeObserver,
  ) {}

  private api(): void {
    this.faults.served++;
    if (this.rand() >= this.faultRate) return;
    this.faults.injected++;
    const kind = this.rand();
    if (kind < 0.5) throw new ForgeError('GitHub API 502 Bad Gateway: expected a JSON answer, got an HTML error page (simulated).', { fix: 'Retried with backoff.' });
    if (kind < 0.8) throw new ForgeError('GitHub API 429 Too Many Requests: retry after 60 s (simulated).', { fix: 'Retried with backoff.' });
    throw new ForgeError('GitHub API 403: You have exceeded a secondary rate limit (simulated).', { fix: 'Retried with backoff.' });
  }

  async openPr(input: OpenPrInput): Promise<Pr & { adopted: boolean }> {
    if (this.observer.killed()) this.observer.violation('openPr', input.task);
    this.api();
    const existing = [...this.prs.values()].find((p) => p.branch === input.branch && p.state !== 'closed');
    if (existing) {
      if (existing.state === 'open' && existing.headSha !== input.headSha) Object.assign(existing, { headSha: input.headSha, checks: 'pending', checksSha: undefined });
      return { ...existing, adopted: true };
    }
    const pr: Pr = { number: this.next++, task: input.task, branch: input.branch, base: input.base, title: input.title, headSha: input.headSha, state: 'open', checks: 'pending', files: [`src/${input.task}.js`] };
    this.prs.set(pr.number, pr);
    this.opened.set(input.task, (this.opened.get(input.task) ?? 0) + 1);
    return { ...pr, adopted: false };
  }

  async getPr(number: number): Promise<Pr | undefined> {
    this.api();
    const pr = this.prs.get(number);
    return pr && { ...pr };
  }

  async findPrForBranch(branch: string): Promise<Pr | undefined> {
    this.api();
    return [...this.prs.values()].find((p) => p.branch === branch);
  }

  async listOpenPrs(): Promise<Pr[]> {
    this.api();
    return [...this.prs.values()].filter((p) => p.state === 'open').map((p) => ({ ...p }));
  }

  async runChecks(pr: PullRequest): Promise<ChecksResult> {
    this.api();
    const stored = this.prs.get(pr.number)!;
    const state = this.population.checksPass() ? 'success' : 'failure';
    Object.assign(stored, { checks: state, checksSha: stored.headSha });
    return { state, sha: stored.headSha, log: state === 'success' ? 'ok' : 'FAIL test/sim.test.js (simulated)' };
  }

  async merge(pr: PullRequest, expectedHeadSha: string): Promise<MergeResult> {
    if (this.observer.killed()) this.observer.violation('merge', pr.task);
    this.api();
    const stored = this.prs.get(pr.number)!;
    if (stored.state === 'merged') return { outcome: 'already_merged', mergeSha: stored.mergeSha };
    if (stored.state === 'closed') return { outcome: 'closed' };
    if (stored.headSha !== expectedHeadSha) return { outcome: 'head_moved' };
    return this.doMerge(stored);
  }

  private doMerge(stored: Pr): MergeResult {
    stored.state = 'merged';
    stored.mergeSha = `m-${stored.number}`;
    this.merges.set(stored.task, (this.merges.get(stored.task) ?? 0) + 1);
    return { outcome: 'merged', mergeSha: stored.mergeSha };
  }

  async comment(): Promise<void> {
    this.api();
  }

  async deleteBranch(): Promise<void> {
    this.api();
  }

  /** A human acts on an open PR outside the engine: merges it (most often) or closes it. */
  humanActs(prNumber: number): 'merged' | 'closed' | undefined {
    const pr = this.prs.get(prNumber);
    if (!pr || pr.state !== 'open') return undefined;
    this.faults.behindBack++;
    if (this.rand() < 0.7) {
      this.doMerge(pr);
      return 'merged';
    }
    this.close(prNumber);
    return 'closed';
  }

  /** A human closes the PR unmerged. */
  close(prNumber: number): void {
    const pr = this.prs.get(prNumber);
    if (pr?.state === 'open') pr.state = 'closed';
  }

  openPrs(): Pr[] {
    return [...this.prs.values()].filter((p) => p.state === 'open');
  }
}
