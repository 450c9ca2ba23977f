/**
 * A stateful stand-in for GitHub's REST + GraphQL API on 127.0.0.1, backed by a real bare git repo
 * (the main clone's remote). It speaks GitHub's shapes and status codes: `mergeable: null` on the
 * first look, 409 on a stale merge sha, 405 on re-merge, 422 on a duplicate PR and on deleting a
 * missing ref, Link-header pagination, the auto-merge "clean status" error, secondary rate limits
 * (403 + retry-after) and 5xx bursts on demand. Its CI is a per-sha verdict that is pending at first; the
 * verdict may be computed asynchronously (e.g. by running the project's checks on the pushed commit) and may
 * carry the `output` (title, summary, text) GitHub shows on the `test` check run.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync, spawnSync } from 'node:child_process';
import { squashMerge } from '../../actors/git/git.js';
import { conditional, FakeIssues } from './fake-github-issues.js';

export type CiOutcome = 'success' | 'failure' | 'status_failure' | 'pending';
/** A verdict with the check run's `output`, as a CI app reports it. */
export interface CiReport {
  outcome: CiOutcome;
  title?: string;
  summary?: string;
  text?: string;
}
export type CiVerdict = (pr: { branch: string; sha: string }) => CiOutcome | CiReport | Promise<CiOutcome | CiReport>;

export interface FakePull {
  number: number;
  node_id: string;
  title: string;
  body: string;
  head: string;
  base: string;
  headSha: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergedBy: string | null;
  merge_commit_sha: string | null;
  auto_merge: null | { merge_method: 'squash'; enabled_by: { login: string } };
  /** Branch protection needs an approving review: mergeable_state "blocked", merges refused with 405. */
  blocked: boolean;
  mergeableKey: string | null;
  reviews: Array<{ id: number; user: { login: string }; state: string; body: string; commit_id: string }>;
  comments: Array<{ id: number; body: string; user: { login: string }; created_at: string }>;
}

interface Fault {
  method?: string;
  path: RegExp;
  status: number;
  times: number;
  headers?: Record<string, string>;
  message: string;
}

export interface FakeGitHubOptions {
  owner: string;
  repo: string;
  bare: string;
  token: string;
  /** CI verdict of a head; default success. A promise keeps the head pending until it settles. */
  ci?: CiVerdict;
  /** GitHub closes the issues a merged PR's body names ("Closes #12") when it merges into the default branch; off to see who else closes them. */
  closeIssuesOnMerge?: boolean;
}

const BOT = { login: 'oxi-bot' };

export class FakeGitHub {
  readonly pulls = new Map<number, FakePull>();
  readonly issues: FakeIssues;
  /** Requests that counted against the rate limit: every one but a 304 answer to a conditional request. */
  rateLimitUsed = 0;
  /** Every request answered, with when it arrived (ms since the epoch), so tests can measure waits. */
  readonly requests: Array<{ method: string; path: string; status: number; at: number }> = [];
  ci: CiVerdict;
  autoMergeAllowed = true;
  /** GitHub caps per_page at 100; tests lower it to force Link-header pagination. */
  maxPerPage = 100;
  /** Called after a PR is created and before the answer is sent (crash tests kill the client here). */
  onPullCreated?: (pr: FakePull) => void;
  private readonly ciReads = new Map<string, { reads: number; outcome?: CiOutcome; report?: CiReport; running?: boolean }>();
  private readonly faults: Fault[] = [];
  private nextNumber = 1;
  private nextId = 100;
  private server?: Server;
  url = '';

  constructor(readonly o: FakeGitHubOptions) {
    this.ci = o.ci ?? (() => 'success');
    this.issues = new FakeIssues({ owner: o.owner, repo: o.repo, url: () => this.url, nextNumber: () => this.nextNumber++, nextId: () => this.nextId++, bot: BOT });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  /** The next `times` matching requests fail with `status` (a 5xx burst, a secondary rate limit). */
  fail(f: Omit<Fault, 'message' | 'times'> & { times?: number; message?: string }): void {
    this.faults.push({ times: 1, message: f.status === 403 ? 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' : 'Server Error', ...f });
  }

  secondaryRateLimit(path: RegExp, times = 1): void {
    this.fail({ path, status: 403, times, headers: { 'retry-after': '1' } });
  }

  git(args: string[]): string {
    return execFileSync('git', args, { cwd: this.o.bare, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined } as never }).trim();
  }

  private ref(branch: string): string | undefined {
    const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], { cwd: this.o.bare, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  }

  private refresh(p: FakePull): FakePull {
    if (p.state === 'open') p.headSha = this.ref(p.head) ?? p.headSha;
    return p;
  }

  /** Final CI verdict for a sha, or pending on its first look (CI "starts" when first asked). */
  private ciOf(p: { head: string }, sha: string, count: boolean): CiOutcome {
    const entry = this.ciReads.get(sha) ?? { reads: 0 };
    this.ciReads.set(sha, entry);
    if (count) entry.reads++;
    if (entry.outcome && entry.outcome !== 'pending') return entry.outcome;
    if (entry.reads < 2 || entry.running) return 'pending';
    const settle = (verdict: CiOutcome | CiReport) => {
      entry.report = typeof verdict === 'string' ? { outcome: verdict } : verdict;
      entry.outcome = entry.report.outcome;
      entry.running = false;
    };
    const verdict = this.ci({ branch: p.head, sha });
    if (!(verdict instanceof Promise)) {
      settle(verdict);
      return entry.outcome!;
    }
    // CI is running: the head stays pending until it finishes; a CI that breaks is a red run saying why.
    entry.running = true;
    verdict.then(settle, (error: Error) => settle({ outcome: 'failure', title: 'CI crashed', text: String(error?.stack ?? error) }));
    return 'pending';
  }

  private conflicts(p: FakePull): boolean {
    const r = spawnSync('git', ['merge-tree', '--write-tree', `refs/heads/${p.base}`, p.headSha], { cwd: this.o.bare });
    return r.status === 1;
  }

  private mergeableState(p: FakePull): { mergeable: boolean | null; mergeable_state: string } {
    if (p.state !== 'open') return { mergeable: null, mergeable_state: 'unknown' };
    const key = `${p.headSha}:${this.ref(p.base)}`;
    // GitHub computes mergeability in the background: the first look after a change answers null.
    if (p.mergeableKey !== key) {
      p.mergeableKey = key;
      return { mergeable: null, mergeable_state: 'unknown' };
    }
    if (this.conflicts(p)) return { mergeable: false, mergeable_state: 'dirty' };
    if (p.blocked) return { mergeable: true, mergeable_state: 'blocked' };
    return { mergeable: true, mergeable_state: this.ciOf(p, p.headSha, false) === 'success' ? 'clean' : 'unstable' };
  }

  private json(p: FakePull, detail: boolean) {
    const out: Record<string, unknown> = {
      url: `${this.url}/repos/${this.o.owner}/${this.o.repo}/pulls/${p.number}`,
      html_url: `https://github.test/${this.o.owner}/${this.o.repo}/pull/${p.number}`,
      number: p.number,
      node_id: p.node_id,
      state: p.state,
      title: p.title,
      body: p.body,
      user: BOT,
      merged_at: p.merged ? '2026-01-01T00:00:00Z' : null,
      merge_commit_sha: p.merge_commit_sha,
      auto_merge: p.auto_merge,
      draft: false,
      head: { ref: p.head, sha: p.headSha, label: `${this.o.owner}:${p.head}`, repo: { full_name: `${this.o.owner}/${this.o.repo}` } },
      base: { ref: p.base, sha: this.ref(p.base), label: `${this.o.owner}:${p.base}` },
    };
    if (detail) Object.assign(out, { merged: p.merged, merged_by: p.mergedBy ? { login: p.mergedBy } : null, ...this.mergeableState(p) });
    return out;
  }

  /** Squash-merges in the bare repo, as GitHub does for the API, the auto-merge, or a human's button. */
  async mergeNow(p: FakePull, by: string): Promise<string | undefined> {
    const r = await squashMerge({ repo: this.o.bare, branch: p.head, base: p.base, expectedHead: p.headSha, message: `${p.title} (#${p.number})` });
    if (r.outcome !== 'merged' && r.outcome !== 'already_merged') return undefined;
    Object.assign(p, { merged: true, state: 'closed', mergedBy: by, merge_commit_sha: r.mergeSha ?? null, auto_merge: null });
    if (p.base === 'main' && this.o.closeIssuesOnMerge !== false) this.issues.closeReferenced(p.body, by);
    return r.mergeSha;
  }

  /** A human presses "Squash and merge" in the web UI. */
  humanMerge(number: number): Promise<string | undefined> {
    return this.mergeNow(this.refresh(this.pulls.get(number)!), 'octocat');
  }

  humanClose(number: number): void {
    this.pulls.get(number)!.state = 'closed';
  }

  /** A human approves: branch protection is satisfied, and an armed auto-merge goes through. */
  async approve(number: number): Promise<void> {
    const p = this.refresh(this.pulls.get(number)!);
    p.blocked = false;
    p.reviews.push({ id: this.nextId++, user: { login: 'octocat' }, state: 'APPROVED', body: '', commit_id: p.headSha });
    await this.autoMerge();
  }

  requestChanges(number: number, body: string): void {
    const p = this.refresh(this.pulls.get(number)!);
    p.reviews.push({ id: this.nextId++, user: { login: 'octocat' }, state: 'CHANGES_REQUESTED', body, commit_id: p.headSha });
  }

  private async autoMerge(): Promise<void> {
    for (const p of this.pulls.values()) {
      if (p.state !== 'open' || !p.auto_merge || p.blocked) continue;
      this.refresh(p);
      if (this.ciOf(p, p.headSha, false) === 'success' && !this.conflicts(p)) await this.mergeNow(p, 'github-auto-merge');
    }
  }

  branchesInRemote(): string[] {
    return this.git(['for-each-ref', '--format=%(refname:short)', 'refs/heads']).split('\n').filter(Boolean);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const at = Date.now();
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      [status, headers] = conditional(method, status, text, req.headers['if-none-match'], headers);
      if (status !== 304) this.rateLimitUsed++;
      this.requests.push({ method, path: url.pathname, status, at });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': String(Math.max(0, 5000 - this.rateLimitUsed)), ...headers });
      res.end(status === 304 ? undefined : text);
    };
    try {
      const auth = req.headers.authorization ?? '';
      if (auth.replace(/^(token|bearer)\s+/i, '') !== this.o.token) return send(401, { message: 'Bad credentials' });
      const fault = this.faults.find((f) => f.times > 0 && (!f.method || f.method === method) && f.path.test(url.pathname));
      if (fault) {
        fault.times--;
        return send(fault.status, { message: fault.message }, fault.headers);
      }
      const body = raw ? JSON.parse(raw) : {};
      await this.autoMerge();
      const out = await this.route(method, url, body);
      return send(out.status, out.body, out.headers);
    } catch (error) {
      return send(500, { message: `fake GitHub bug: ${(error as Error).stack}` });
    }
  }

  /** `per_page` / `page` slicing with GitHub's Link header. */
  private page<T>(url: URL, items: T[], wrap?: (slice: T[]) => unknown): { status: number; body: unknown; headers: Record<string, string> } {
    const per = Math.min(this.maxPerPage, Number(url.searchParams.get('per_page') ?? 30));
    const page = Number(url.searchParams.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(items.length / per));
    const slice = items.slice((page - 1) * per, page * per);
    const link = (n: number, rel: string) => {
      const u = new URL(url);
      u.searchParams.set('page', String(n));
      return `<${u}>; rel="${rel}"`;
    };
    const links = [...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])];
    return { status: 200, body: wrap ? wrap(slice) : slice, headers: links.length ? { link: links.join(', ') } : {} };
  }

  private async route(method: string, url: URL, body: any): Promise<{ status: number; body?: unknown; headers?: Record<string, string> }> {
    const prefix = `/repos/${this.o.owner}/${this.o.repo}`;
    const path = url.pathname;
    if (method === 'POST' && path === '/graphql') return this.graphql(body);
    if (!path.startsWith(prefix)) return { status: 404, body: { message: 'Not Found' } };
    const rest = path.slice(prefix.length);
    const notFound = { status: 404, body: { message: 'Not Found' } };
    let m: RegExpMatchArray | null;
    // The repository itself, as a token with write access sees it (what `oxi doctor` reads).
    if (rest === '' && method === 'GET') return { status: 200, body: { full_name: `${this.o.owner}/${this.o.repo}`, default_branch: 'main', permissions: { admin: false, push: true, pull: true } } };
    const issue = this.issues.route(method, rest, url, body, (u, items) => this.page(u, items), () => [...this.pulls.values()].map((p) => this.json(this.refresh(p), false)));
    if (issue) return issue;
    if (rest === '/pulls' && method === 'POST') return this.createPull(body);
    if (rest === '/pulls' && method === 'GET') {
      const state = url.searchParams.get('state') ?? 'open';
      const head = url.searchParams.get('head');
      const list = [...this.pulls.values()]
        .map((p) => this.refresh(p))
        .filter((p) => state === 'all' || p.state === state)
        .filter((p) => !head || `${this.o.owner}:${p.head}` === head)
        .sort((a, b) => b.number - a.number);
      return this.page(url, list.map((p) => this.json(p, false)));
    }
    if ((m = rest.match(/^\/pulls\/(\d+)(\/.*)?$/))) {
      const p = this.pulls.get(Number(m[1]));
      if (!p) return notFound;
      this.refresh(p);
      const sub = m[2] ?? '';
      if (sub === '' && method === 'GET') return { status: 200, body: this.json(p, true) };
      if (sub === '/files' && method === 'GET') {
        const out = this.git(['diff', '--name-status', '--no-renames', `refs/heads/${p.base}...${p.headSha}`]);
        const files = out.split('\n').filter(Boolean).map((l) => {
          const [st, filename] = l.split('\t');
          return { sha: '0'.repeat(40), filename, status: st === 'A' ? 'added' : st === 'D' ? 'removed' : 'modified', additions: 1, deletions: 0, changes: 1 };
        });
        return this.page(url, files);
      }
      if (sub === '/reviews' && method === 'GET') return this.page(url, p.reviews);
      if (sub === '/merge' && method === 'PUT') return this.mergePull(p, body);
      return notFound;
    }
    if ((m = rest.match(/^\/issues\/(\d+)\/comments$/))) {
      const p = this.pulls.get(Number(m[1]));
      if (!p) return notFound;
      if (method === 'GET') return this.page(url, p.comments);
      const c = { id: this.nextId++, body: String(body.body), user: BOT, created_at: new Date().toISOString() };
      p.comments.push(c);
      return { status: 201, body: c };
    }
    if ((m = rest.match(/^\/commits\/([^/]+)\/(status|check-runs)$/)) && method === 'GET') {
      const sha = decodeURIComponent(m[1]);
      const p = [...this.pulls.values()].find((x) => x.headSha === sha) ?? { head: '?' };
      const outcome = this.ciOf(p, sha, m[2] === 'status');
      if (m[2] === 'status') {
        const state = outcome === 'status_failure' ? 'failure' : outcome === 'pending' ? 'pending' : 'success';
        const statuses = [{ context: 'ci/legacy', state, description: `legacy CI ${state}`, target_url: null }];
        return { status: 200, body: { state, sha, total_count: 1, statuses } };
      }
      const done = outcome !== 'pending';
      const report = done ? this.ciReads.get(sha)?.report : undefined;
      const output = (r?: CiReport) => ({ title: r?.title ?? null, summary: r?.summary ?? null, text: r?.text ?? null, annotations_count: 0, annotations_url: '' });
      const runs = [
        { id: 1, name: 'lint', head_sha: sha, status: 'completed', conclusion: 'success', html_url: null, output: output() },
        { id: 2, name: 'test', head_sha: sha, status: done ? 'completed' : 'in_progress', conclusion: done ? (outcome === 'failure' ? 'failure' : 'success') : null, html_url: null, output: output(report) },
      ];
      return this.page(url, runs, (slice) => ({ total_count: runs.length, check_runs: slice }));
    }
    if ((m = rest.match(/^\/git\/refs\/(.+)$/)) && method === 'DELETE') {
      const ref = decodeURIComponent(m[1]);
      const branch = ref.replace(/^heads\//, '');
      if (!ref.startsWith('heads/') || !this.ref(branch)) return { status: 422, body: { message: 'Reference does not exist' } };
      this.git(['update-ref', '-d', `refs/heads/${branch}`]);
      return { status: 204 };
    }
    return notFound;
  }

  private createPull(body: { title: string; head: string; base: string; body?: string }) {
    const head = String(body.head).replace(`${this.o.owner}:`, '');
    const headSha = this.ref(head);
    const invalid = (message: string) => ({ status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message }] } });
    if (!headSha) return invalid(`head: branch ${head} does not exist`);
    if ([...this.pulls.values()].some((p) => p.head === head && p.state === 'open')) return invalid(`A pull request already exists for ${this.o.owner}:${head}.`);
    if (this.git(['rev-list', '--count', `refs/heads/${body.base}..${headSha}`]) === '0') return invalid(`No commits between ${body.base} and ${head}`);
    const number = this.nextNumber++;
    const p: FakePull = {
      number, node_id: `PR_fake${number}`, title: body.title, body: body.body ?? '', head, base: body.base, headSha, state: 'open', merged: false,
      mergedBy: null, merge_commit_sha: null, auto_merge: null, blocked: false, mergeableKey: null, reviews: [], comments: [],
    };
    this.pulls.set(number, p);
    this.onPullCreated?.(p);
    // Not a look at mergeability: a fresh PR answers null without starting the clock on it.
    return { status: 201, body: { ...this.json(p, false), merged: false, mergeable: null, mergeable_state: 'unknown' } };
  }

  private async mergePull(p: FakePull, body: { sha?: string; merge_method?: string }) {
    if (p.merged || p.state !== 'open') return { status: 405, body: { message: 'Pull Request is not mergeable' } };
    if (body.sha && body.sha !== p.headSha) return { status: 409, body: { message: 'Head branch was modified. Review and try the merge again.' } };
    if (p.blocked) return { status: 405, body: { message: 'At least 1 approving review is required by reviewers with write access.' } };
    if (this.conflicts(p)) return { status: 405, body: { message: 'Pull Request is not mergeable' } };
    const sha = await this.mergeNow(p, BOT.login);
    return { status: 200, body: { sha, merged: true, message: 'Pull Request successfully merged' } };
  }

  private graphql(body: { query: string; variables?: Record<string, unknown> }) {
    const err = (message: string, type = 'UNPROCESSABLE') => ({ status: 200, body: { data: { enablePullRequestAutoMerge: null }, errors: [{ type, path: ['enablePullRequestAutoMerge'], message }] } });
    if (/disablePullRequestAutoMerge/.test(body.query)) {
      const armed = [...this.pulls.values()].find((x) => x.node_id === body.variables?.id);
      if (!armed) return { status: 200, body: { data: { disablePullRequestAutoMerge: null }, errors: [{ type: 'NOT_FOUND', message: `Could not resolve to a node with the global id of '${String(body.variables?.id)}'` }] } };
      armed.auto_merge = null;
      return { status: 200, body: { data: { disablePullRequestAutoMerge: { pullRequest: { number: armed.number } } } } };
    }
    if (!/enablePullRequestAutoMerge/.test(body.query)) return { status: 200, body: { errors: [{ message: 'fake GitHub: unsupported query' }] } };
    const p = [...this.pulls.values()].find((x) => x.node_id === body.variables?.id);
    if (!p) return err(`Could not resolve to a node with the global id of '${String(body.variables?.id)}'`, 'NOT_FOUND');
    this.refresh(p);
    if (!this.autoMergeAllowed) return err('Pull request Auto merge is not allowed for this repository');
    if (p.state !== 'open') return err('Pull request Pull request is closed');
    if (body.variables?.head && body.variables.head !== p.headSha) return err('Pull request Head sha did not match expected head oid');
    const ci = this.ciOf(p, p.headSha, false);
    if (!p.blocked && ci === 'success' && !this.conflicts(p)) return err('Pull request Pull request is in clean status');
    p.auto_merge ??= { merge_method: 'squash', enabled_by: BOT };
    return { status: 200, body: { data: { enablePullRequestAutoMerge: { pullRequest: { autoMergeRequest: { enabledAt: '2026-01-01T00:00:00Z' } } } } } };
  }
}
