/**
 * The GitHub forge: pull requests, CI state, squash merges and auto-merge through octokit (REST, plus
 * GraphQL for auto-merge). Like the local forge, every operation looks first and acts second, so a
 * retry after a crash adopts what the first attempt did instead of doing it twice.
 */
import { RequestError } from 'octokit';
import { clockSleep } from '../../../src/clock.js';
import { checksVerdict, type CheckRun, type CommitStatus } from './checks-verdict.js';
import type { GitHubClient } from './client.js';
import { followRemoteBase, pushBranch } from './push.js';
import type { Clock } from '../../../src/clock.js';
import { ForgeError } from '../../../src/errors.js';
import type { AutoMergeResult, ChecksResult, Forge, MergeResult, OpenPrInput, PullRequest } from '../../../src/ports.js';

export interface GitHubForgeOptions {
  client: GitHubClient;
  owner: string;
  repo: string;
  /** The local main clone: task branches are pushed from it, and its base branch follows the remote's. */
  mainClone: string;
  mainBranch: string;
  /** The git remote of the main clone that is the GitHub repository. */
  remote: string;
  /** Only branches with this prefix are the engine's (listed, deleted). */
  branchPrefix: string;
  clock: Clock;
  /** First CI poll interval; later polls back off ×1.5 up to a minute. */
  pollMs: number;
  /** How long CI may stay pending before the head counts as failed. */
  checksTimeoutMs: number;
  /** A head with no status and no check run at all after this long counts as green (a repo without CI). */
  noChecksGraceMs?: number;
  /** Given to the push alone, through GIT_ASKPASS (HTTPS remotes); SSH remotes use the user's key. */
  token?: string;
}

/** A hidden marker in the PR body ties the PR to its task even if the branch name is ambiguous. */
const TASK_MARKER = /<!-- oxi:task=([^\s>]+) -->/;
const MAX_POLL_MS = 60_000;

type GhPull = {
  number: number;
  node_id: string;
  state: string;
  merged?: boolean;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  mergeable?: boolean | null;
  mergeable_state?: string;
  auto_merge?: unknown;
  title: string;
  body?: string | null;
  html_url: string;
  head: { ref: string; sha: string };
  base: { ref: string };
};

function statusOf(e: unknown): number | undefined {
  return e instanceof RequestError ? e.status : undefined;
}

export class GitHubForge implements Forge {
  readonly kind = 'github';
  /** Final CI verdicts by head sha (a sha's result does not change); lost on restart, re-read then. */
  private readonly verdicts = new Map<string, ChecksResult>();

  constructor(private readonly o: GitHubForgeOptions) {
    if (!o.branchPrefix) {
      throw new ForgeError('Expected a non-empty branch prefix for the GitHub forge; got "".', {
        fix: 'Set branches.prefix (e.g. "oxi/"): with "" the janitor could delete any branch.',
      });
    }
  }

  private get repoArgs() {
    return { owner: this.o.owner, repo: this.o.repo };
  }

  /** Turns an API failure into a ForgeError that says what was attempted and how to fix it. */
  private fail(what: string, e: unknown): never {
    const status = statusOf(e);
    const said = e instanceof Error ? e.message.split('\n')[0] : String(e);
    const fix =
      status === 401 ? 'The token is invalid or expired: export a fresh one in the variable repo.forge.tokenEnv names.'
      : status === 403 ? 'The token lacks a permission (pull requests / contents: write; checks / statuses: read), or the rate limit persisted.'
      : status === 404 ? `Check repo.forge.owner/name (${this.o.owner}/${this.o.repo}) and that the token can see the repository.`
      : 'GitHub may be having trouble (see githubstatus.com); oxi retries with backoff on the next attempt.';
    throw new ForgeError(`Expected GitHub to ${what} in ${this.o.owner}/${this.o.repo}; it answered ${status ?? 'with an error'}: ${said}`, { fix, cause: e });
  }

  private toPr(p: GhPull): PullRequest {
    const merged = Boolean(p.merged || p.merged_at);
    const verdict = this.verdicts.get(p.head.sha);
    return {
      number: p.number,
      task: p.body?.match(TASK_MARKER)?.[1] ?? p.head.ref,
      branch: p.head.ref,
      base: p.base.ref,
      title: p.title,
      headSha: p.head.sha,
      state: merged ? 'merged' : p.state === 'closed' ? 'closed' : 'open',
      checks: verdict?.state ?? 'pending',
      ...(verdict ? { checksSha: verdict.sha } : {}),
      ...(merged && p.merge_commit_sha ? { mergeSha: p.merge_commit_sha } : {}),
      url: p.html_url,
      ...(p.mergeable !== undefined ? { mergeable: p.mergeable } : {}),
      autoMerge: Boolean(p.auto_merge),
    };
  }

  private async pull(number: number): Promise<GhPull | undefined> {
    try {
      return (await this.o.client.rest.pulls.get({ ...this.repoArgs, pull_number: number })).data as GhPull;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      return this.fail(`return pull request #${number}`, e);
    }
  }

  async openPr(input: OpenPrInput): Promise<PullRequest & { adopted: boolean }> {
    const existing = await this.findPrForBranch(input.branch);
    if (existing?.state === 'merged') return { ...existing, adopted: true };
    if (existing?.state === 'open' && existing.headSha === input.headSha) return { ...existing, adopted: true };
    await pushBranch(this.o.mainClone, this.o.remote, input.branch, input.headSha, this.o.token);
    if (existing?.state === 'open') return { ...existing, headSha: input.headSha, adopted: true };
    const body = `${input.body}\n\n<!-- oxi:task=${input.task} -->\n`;
    try {
      const { data } = await this.o.client.rest.pulls.create({ ...this.repoArgs, title: input.title, head: input.branch, base: input.base, body });
      return { ...this.toPr(data as GhPull), adopted: false };
    } catch (e) {
      // Created by an earlier attempt whose answer was lost: adopt it.
      if (statusOf(e) === 422 && /already exists/i.test(String((e as Error).message))) {
        const again = await this.findPrForBranch(input.branch);
        if (again) return { ...again, adopted: true };
      }
      return this.fail(`open a pull request from ${input.branch} into ${input.base}`, e);
    }
  }

  async getPr(number: number): Promise<PullRequest | undefined> {
    const p = await this.pull(number);
    return p && this.toPr(p);
  }

  /** The branch's open PR, else its newest merged one, else its newest closed one. */
  async findPrForBranch(branch: string): Promise<PullRequest | undefined> {
    let list: GhPull[];
    try {
      list = (await this.o.client.paginate(this.o.client.rest.pulls.list, { ...this.repoArgs, head: `${this.o.owner}:${branch}`, state: 'all', per_page: 100 })) as GhPull[];
    } catch (e) {
      return this.fail(`list the pull requests of ${branch}`, e);
    }
    const mine = list.filter((p) => p.head.ref === branch).map((p) => this.toPr(p));
    const rank = { open: 0, merged: 1, closed: 2 } as const;
    mine.sort((a, b) => rank[a.state] - rank[b.state] || b.number - a.number);
    return mine[0];
  }

  async listOpenPrs(): Promise<Array<PullRequest & { files: string[] }>> {
    const { client } = this.o;
    let open: GhPull[];
    try {
      open = (await client.paginate(client.rest.pulls.list, { ...this.repoArgs, state: 'open', per_page: 100 })) as GhPull[];
    } catch (e) {
      return this.fail('list the open pull requests', e);
    }
    const out: Array<PullRequest & { files: string[] }> = [];
    for (const p of open.filter((p) => p.head.ref.startsWith(this.o.branchPrefix))) {
      try {
        const files = await client.paginate(client.rest.pulls.listFiles, { ...this.repoArgs, pull_number: p.number, per_page: 100 });
        const names = files.flatMap((f) => (f.previous_filename ? [f.filename, f.previous_filename] : [f.filename]));
        out.push({ ...this.toPr(p), files: [...new Set(names)] });
      } catch (e) {
        if (statusOf(e) === 404) continue; // deleted between the two calls
        return this.fail(`list the files of pull request #${p.number}`, e);
      }
    }
    return out;
  }

  /** Combined status and check runs of the PR's head: both, since neither includes the other. */
  async readChecks(pr: PullRequest): Promise<{ state: 'pending' | 'success' | 'failure'; sha: string; log: string; none: boolean }> {
    const { client } = this.o;
    const ref = pr.headSha;
    try {
      const combined = (await client.rest.repos.getCombinedStatusForRef({ ...this.repoArgs, ref, per_page: 100 })).data;
      const runs = (await client.paginate(client.rest.checks.listForRef, { ...this.repoArgs, ref, per_page: 100 })) as CheckRun[];
      const v = checksVerdict(combined.statuses as CommitStatus[], runs);
      return { state: v.state, sha: ref, log: v.log, none: v.none };
    } catch (e) {
      return this.fail(`report the CI state of ${ref.slice(0, 12)}`, e);
    }
  }

  /** Waits for CI on the PR's head (polling with backoff on the injected clock) and returns its verdict. */
  async runChecks(pr: PullRequest, _worktree: string, signal?: AbortSignal): Promise<ChecksResult> {
    const known = this.verdicts.get(pr.headSha);
    if (known) return known;
    const started = this.o.clock.now();
    const grace = this.o.noChecksGraceMs ?? Math.min(this.o.checksTimeoutMs, 60_000);
    for (let poll = 0; ; poll++) {
      if (signal?.aborted) throw new ForgeError('Expected to wait for CI; the wait was cancelled.', { fix: 'Nothing to do: the task moved on.' });
      const r = await this.readChecks(pr);
      const waited = this.o.clock.now() - started;
      let verdict: ChecksResult | undefined;
      if (r.state !== 'pending') verdict = { state: r.state, sha: r.sha, log: r.log };
      else if (r.none && waited >= grace) verdict = { state: 'success', sha: r.sha, log: `[oxi] no status and no check run reported for ${r.sha} after ${Math.round(waited / 1000)} s: the repository has no CI; treated as green.` };
      else if (waited >= this.o.checksTimeoutMs) return { state: 'failure', sha: r.sha, log: `${r.log}\n[oxi] CI did not finish within ${this.o.checksTimeoutMs} ms.` };
      if (verdict) {
        this.verdicts.set(verdict.sha, verdict);
        return verdict;
      }
      await clockSleep(this.o.clock, Math.min(this.o.pollMs * 1.5 ** poll, MAX_POLL_MS), signal);
    }
  }

  /** The PR with `mergeable` computed: GitHub answers null until its background job is done. */
  private async settled(number: number): Promise<GhPull | undefined> {
    for (let poll = 0; ; poll++) {
      const p = await this.pull(number);
      if (!p || p.state !== 'open' || p.mergeable !== null || poll >= 6) return p;
      await clockSleep(this.o.clock, Math.min(this.o.pollMs * 2 ** poll, MAX_POLL_MS));
    }
  }

  async merge(pr: PullRequest, expectedHeadSha: string, message: string): Promise<MergeResult> {
    const p = await this.settled(pr.number);
    if (!p) throw new ForgeError(`Expected pull request #${pr.number} on GitHub; it does not exist.`, { fix: 'Check repo.forge.owner/name.' });
    const now = this.toPr(p);
    if (now.state === 'merged') return { outcome: 'already_merged', ...(now.mergeSha ? { mergeSha: now.mergeSha } : {}) };
    if (now.state === 'closed') return { outcome: 'closed', detail: `pull request #${pr.number} is closed` };
    if (now.headSha !== expectedHeadSha) return { outcome: 'head_moved', detail: `head is ${now.headSha}, expected ${expectedHeadSha}` };
    if (p.mergeable === false && p.mergeable_state === 'dirty') return { outcome: 'conflict', detail: `#${pr.number} conflicts with ${now.base}` };
    const [title, ...rest] = message.split('\n');
    try {
      const { data } = await this.o.client.rest.pulls.merge({
        ...this.repoArgs, pull_number: pr.number, merge_method: 'squash', sha: expectedHeadSha, commit_title: title, commit_message: rest.join('\n').trim(),
      });
      return { outcome: 'merged', mergeSha: data.sha };
    } catch (e) {
      const status = statusOf(e);
      const said = String((e as Error).message).split('\n')[0];
      if (status === 409) return { outcome: 'head_moved', detail: said };
      if (status === 405 || status === 422) {
        // 405 also answers a PR merged a moment ago (by auto-merge or a human): look again.
        const after = await this.pull(pr.number);
        if (after && this.toPr(after).state === 'merged') return { outcome: 'already_merged', ...(after.merge_commit_sha ? { mergeSha: after.merge_commit_sha } : {}) };
        if (after?.mergeable_state === 'dirty') return { outcome: 'conflict', detail: said };
        return { outcome: 'blocked', detail: `GitHub refused the merge (${status}): ${said}` };
      }
      return this.fail(`squash-merge pull request #${pr.number}`, e);
    }
  }

  /** Arms GitHub's auto-merge (squash, pinned to the current head). Already armed is a no-op. */
  async armAutoMerge(pr: PullRequest): Promise<AutoMergeResult> {
    const p = await this.pull(pr.number);
    if (!p) throw new ForgeError(`Expected pull request #${pr.number} on GitHub; it does not exist.`, { fix: 'Check repo.forge.owner/name.' });
    if (this.toPr(p).state === 'merged') return { outcome: 'merged' };
    if (p.auto_merge) return { outcome: 'already_armed' };
    try {
      await this.o.client.graphql(
        `mutation($id: ID!, $head: GitObjectID) { enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: SQUASH, expectedHeadOid: $head }) { pullRequest { autoMergeRequest { enabledAt } } } }`,
        { id: p.node_id, head: pr.headSha },
      );
      return { outcome: 'armed' };
    } catch (e) {
      const errors = (e as { errors?: Array<{ message?: string }> }).errors;
      const said = errors?.length ? errors.map((x) => x.message ?? '').join('; ') : String((e as Error).message);
      // Nothing left to wait for: GitHub wants a direct merge instead.
      if (/is in (clean|unstable|has_hooks) status/i.test(said)) return { outcome: 'clean', detail: said.split('\n')[0] };
      if (/already/i.test(said) && /auto.?merge/i.test(said)) return { outcome: 'already_armed' };
      if (statusOf(e) === 401) return this.fail('arm auto-merge', e);
      return { outcome: 'unavailable', detail: said.split('\n')[0] };
    }
  }

  /** Turns GitHub's auto-merge off; a PR without it (or merged, or closed) is left alone. */
  async disarmAutoMerge(pr: PullRequest): Promise<void> {
    const p = await this.pull(pr.number);
    if (!p || !p.auto_merge || this.toPr(p).state !== 'open') return;
    try {
      await this.o.client.graphql(`mutation($id: ID!) { disablePullRequestAutoMerge(input: { pullRequestId: $id }) { pullRequest { number } } }`, { id: p.node_id });
    } catch (e) {
      return this.fail(`turn auto-merge off on pull request #${pr.number}`, e);
    }
  }

  /** Adds a comment; a retry repeating the latest comment verbatim adds nothing. */
  async comment(prNumber: number, body: string): Promise<void> {
    const { client } = this.o;
    try {
      const comments = await client.paginate(client.rest.issues.listComments, { ...this.repoArgs, issue_number: prNumber, per_page: 100 });
      if (comments.at(-1)?.body === body) return;
      await client.rest.issues.createComment({ ...this.repoArgs, issue_number: prNumber, body });
    } catch (e) {
      return this.fail(`comment on pull request #${prNumber}`, e);
    }
  }

  /** A review requesting changes on the current head, newest per reviewer; undefined if none stands. */
  async changesRequested(pr: PullRequest): Promise<string | undefined> {
    const { client } = this.o;
    let reviews: Array<{ user: { login: string } | null; state: string; body: string; commit_id: string | null }>;
    try {
      reviews = (await client.paginate(client.rest.pulls.listReviews, { ...this.repoArgs, pull_number: pr.number, per_page: 100 })) as typeof reviews;
    } catch (e) {
      return this.fail(`list the reviews of pull request #${pr.number}`, e);
    }
    const latest = new Map<string, (typeof reviews)[number]>();
    for (const r of reviews) if (r.state !== 'COMMENTED') latest.set(r.user?.login ?? '?', r);
    const asks = [...latest.values()].filter((r) => r.state === 'CHANGES_REQUESTED' && r.commit_id === pr.headSha);
    return asks.length ? asks.map((r) => `@${r.user?.login ?? '?'}: ${r.body || '(no text)'}`).join('\n') : undefined;
  }

  /** Deletes one of the engine's branches on GitHub; one already gone is fine. Refuses any other. */
  async deleteBranch(branch: string): Promise<void> {
    if (!branch.startsWith(this.o.branchPrefix) || branch === this.o.mainBranch) {
      throw new ForgeError(`Expected a branch starting with "${this.o.branchPrefix}" to delete; got "${branch}", which oxi does not own.`, {
        fix: 'Delete branches oxi did not create yourself.',
      });
    }
    try {
      await this.o.client.rest.git.deleteRef({ ...this.repoArgs, ref: `heads/${branch}` });
    } catch (e) {
      if (statusOf(e) === 422 || statusOf(e) === 404) return; // "Reference does not exist"
      return this.fail(`delete the branch ${branch}`, e);
    }
  }

  /** Brings the main clone's base branch up to GitHub's (see followRemoteBase). */
  syncBase(): Promise<void> {
    return followRemoteBase(this.o.mainClone, this.o.remote, this.o.mainBranch);
  }
}
