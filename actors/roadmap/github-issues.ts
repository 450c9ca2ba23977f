/**
 * GitHub Issues as the roadmap: each open issue carrying the `include` labels is a task (id from its number
 * through `idFormat`, or a `T0-104`-style prefix of its title), its tier from its tier label. Polled with
 * conditional requests: the list is sorted by last update, so an unchanged first page (a 304, which costs no
 * rate limit) means nothing changed anywhere. Closed issues are looked at only when an active task's issue
 * has left the open list.
 */
import { RequestError } from 'octokit';
import type { GitHubClient } from '../forges/github/client.js';
import type { GithubIssuesRoadmapConfig } from '../../src/config/roadmap-schema.js';
import { RoadmapError } from '../../src/errors.js';
import type { RoadmapProblem } from '../../src/roadmap/parse.js';
import type { AddedItem, NewItem, RoadmapSource, SourceItem, SourceRead } from '../../src/roadmap/source.js';

export interface GithubIssuesOptions {
  client: GitHubClient;
  owner: string;
  repo: string;
  config: GithubIssuesRoadmapConfig;
}

interface GhIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  state_reason?: string | null;
  html_url: string;
  labels: Array<string | { name?: string }>;
  pull_request?: unknown;
}

/** A title that starts with a roadmap id (`T0-104 · Title`, `T0-104: Title`) keeps that id. */
const TITLE_ID = /^\s*(T(\d+)-[A-Za-z0-9]+)\b\s*(?:[·:—–-]\s*)?(.*)$/s;
/** Marks oxi's comment linking a PR, so it is written once however often the PR is (re)opened. */
const linkMarker = (pr: number) => `<!-- oxi:pr=${pr} -->`;

const statusOf = (e: unknown) => (e instanceof RequestError ? e.status : undefined);

export class GithubIssuesSource implements RoadmapSource {
  readonly kind = 'github-issues';
  /** Last answer and its ETag, per list: sent back as If-None-Match. */
  private readonly cache = new Map<string, { etag: string; issues: GhIssue[] }>();
  /** Task id → issue number, from the last reads (title-prefixed ids cannot be computed). */
  private readonly numbers = new Map<string, number>();
  private readonly numberRe: RegExp;

  constructor(private readonly o: GithubIssuesOptions) {
    const [before, after] = o.config.idFormat.split('{number}').map((s) => s.replace(/[-_]/g, '\\$&'));
    this.numberRe = new RegExp(`^${before}(\\d+)${after}$`);
  }

  get where(): string {
    return `${this.o.owner}/${this.o.repo} issues labelled ${this.o.config.labels.include.join(', ')}`;
  }

  private fail(what: string, e: unknown): never {
    const status = statusOf(e);
    const fix =
      status === 401 ? 'The token is invalid or expired: export a fresh one in the variable repo.forge.tokenEnv names.'
      : status === 403 || status === 404 ? `Give the token "issues: read and write" on ${this.o.owner}/${this.o.repo} (and check repo.forge.owner/name).`
      : 'GitHub may be having trouble (see githubstatus.com); the seeder tries again on its next tick.';
    throw new RoadmapError(`Expected GitHub to ${what} in ${this.o.owner}/${this.o.repo}; it answered ${status ?? 'with an error'}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { fix, cause: e });
  }

  /** One list of labelled issues, conditionally: a 304 returns the cached list without spending rate limit. */
  private async list(state: 'open' | 'closed'): Promise<{ issues: GhIssue[]; unchanged: boolean }> {
    const { client } = this.o;
    const params = { owner: this.o.owner, repo: this.o.repo, state, labels: this.o.config.labels.include.join(','), sort: 'updated', direction: 'desc', per_page: 100 } as const;
    const cached = this.cache.get(state);
    try {
      const res = await client.request('GET /repos/{owner}/{repo}/issues', { ...params, headers: cached ? { 'if-none-match': cached.etag } : {} });
      let issues = res.data as GhIssue[];
      // Open issues are every task: all pages. Closed ones: the most recently updated page is where a just-closed issue is.
      if (state === 'open' && /rel="next"/.test(res.headers.link ?? '')) issues = (await client.paginate('GET /repos/{owner}/{repo}/issues', params)) as GhIssue[];
      if (res.headers.etag) this.cache.set(state, { etag: res.headers.etag, issues });
      return { issues, unchanged: false };
    } catch (e) {
      if (statusOf(e) === 304 && cached) return { issues: cached.issues, unchanged: true };
      return this.fail(`list the ${state} issues labelled ${params.labels}`, e);
    }
  }

  private labelsOf(issue: GhIssue): string[] {
    return issue.labels.map((l) => (typeof l === 'string' ? l : l.name ?? '')).filter(Boolean);
  }

  private toItem(issue: GhIssue): SourceItem {
    const prefixed = TITLE_ID.exec(issue.title);
    const { tiers } = this.o.config.labels;
    const fromLabels = this.labelsOf(issue).map((l) => tiers[l]).filter((t): t is number => t !== undefined);
    const fallback = this.o.config.defaultTier ?? (prefixed ? Number(prefixed[2]) : Math.max(0, ...Object.values(tiers)));
    return {
      id: prefixed ? prefixed[1] : this.o.config.idFormat.replace('{number}', String(issue.number)),
      tier: fromLabels.length ? Math.min(...fromLabels) : fallback,
      title: (prefixed?.[3] ?? '').trim() || issue.title.trim(),
      description: (issue.body ?? '').trim(),
    };
  }

  async read(active: string[]): Promise<SourceRead> {
    const open = await this.list('open');
    const problems: RoadmapProblem[] = [];
    const items: SourceItem[] = [];
    const seen = new Map<string, number>();
    for (const issue of [...open.issues].filter((i) => !i.pull_request).sort((a, b) => a.number - b.number)) {
      const item = this.toItem(issue);
      const first = seen.get(item.id);
      if (first !== undefined) {
        problems.push({ line: issue.number, message: `Issue #${issue.number} has the id ${item.id} of issue #${first}; ignored.`, severity: 'error' });
        continue;
      }
      seen.set(item.id, issue.number);
      this.numbers.set(item.id, issue.number);
      items.push(item);
    }
    const gone = active.filter((id) => !seen.has(id));
    if (!gone.length) return { items, closed: [], problems, unchanged: open.unchanged };
    const closedList = await this.list('closed');
    const closed: SourceRead['closed'] = [];
    for (const issue of closedList.issues.filter((i) => !i.pull_request)) {
      const id = this.toItem(issue).id;
      this.numbers.set(id, issue.number);
      if (gone.includes(id) && !closed.some((c) => c.id === id)) closed.push({ id, reason: `issue #${issue.number} closed${issue.state_reason === 'not_planned' ? ' as not planned' : ''}` });
    }
    return { items, closed, problems, unchanged: open.unchanged && closedList.unchanged };
  }

  private async numberOf(taskId: string): Promise<number | undefined> {
    const m = this.numberRe.exec(taskId);
    if (m) return Number(m[1]);
    if (!this.numbers.has(taskId)) await this.read([taskId]);
    return this.numbers.get(taskId);
  }

  async add(item: NewItem): Promise<AddedItem> {
    const title = item.title.trim();
    if (!title || /[\r\n]/.test(title)) throw new RoadmapError(`Expected a one-line title, got ${JSON.stringify(item.title)}.`, { fix: 'Put details in the description.' });
    const tierLabel = Object.entries(this.o.config.labels.tiers).find(([, t]) => t === item.tier)?.[0];
    if (tierLabel === undefined) {
      throw new RoadmapError(`No label gives tier ${item.tier}: roadmap.labels.tiers is ${JSON.stringify(this.o.config.labels.tiers)}.`, { fix: 'Use one of those tiers, or add a label for it to roadmap.labels.tiers.' });
    }
    if (item.id !== undefined && !new RegExp(`^T${item.tier}-[A-Za-z0-9]+$`).test(item.id)) {
      throw new RoadmapError(`Expected an id "T${item.tier}-<letters or digits>", got "${item.id}".`, { fix: 'Omit the id: the issue number names the task.' });
    }
    try {
      const { data } = await this.o.client.rest.issues.create({
        owner: this.o.owner, repo: this.o.repo,
        title: item.id ? `${item.id} · ${title}` : title,
        body: item.description.trim(),
        labels: [...this.o.config.labels.include, tierLabel],
      });
      const id = item.id ?? this.o.config.idFormat.replace('{number}', String(data.number));
      this.numbers.set(id, data.number);
      return { id, where: data.html_url };
    } catch (e) {
      return this.fail('create an issue', e);
    }
  }

  async prBody(taskId: string): Promise<string> {
    const n = await this.numberOf(taskId);
    return n === undefined ? '' : `Closes #${n}`;
  }

  async prOpened(taskId: string, pr: { number: number; url?: string }): Promise<boolean> {
    const n = await this.numberOf(taskId);
    if (n === undefined) return false;
    const { client } = this.o;
    try {
      const comments = await client.paginate(client.rest.issues.listComments, { owner: this.o.owner, repo: this.o.repo, issue_number: n, per_page: 100 });
      if (comments.some((c) => c.body?.includes(linkMarker(pr.number)))) return false;
      const body = `oxi opened pull request #${pr.number} for this issue${pr.url ? ` (${pr.url})` : ''}; it closes the issue when it merges.\n\n${linkMarker(pr.number)}`;
      await client.rest.issues.createComment({ owner: this.o.owner, repo: this.o.repo, issue_number: n, body });
      return true;
    } catch (e) {
      return this.fail(`comment on issue #${n}`, e);
    }
  }

  async merged(taskId: string, _pr?: number | null): Promise<boolean> {
    const n = await this.numberOf(taskId);
    if (n === undefined) return false;
    const args = { owner: this.o.owner, repo: this.o.repo, issue_number: n };
    try {
      const { data } = await this.o.client.rest.issues.get(args);
      if (data.state !== 'open') return false;
      await this.o.client.rest.issues.update({ ...args, state: 'closed', state_reason: 'completed' });
      return true;
    } catch (e) {
      return this.fail(`close issue #${n}`, e);
    }
  }
}
