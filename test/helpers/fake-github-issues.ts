/**
 * The issues part of the fake GitHub (test/helpers/fake-github.ts): issues, their labels and comments,
 * in GitHub's REST shapes. Issues and pull requests share one number space, as on GitHub, and the
 * issues list includes pull requests (with a `pull_request` key) unless a label filter excludes them.
 */
import { createHash } from 'node:crypto';

export interface FakeLabel {
  id: number;
  name: string;
  color: string;
  description: string | null;
  default: boolean;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  state_reason: null | 'completed' | 'not_planned' | 'reopened';
  labels: string[];
  comments: Array<{ id: number; body: string; user: { login: string }; created_at: string }>;
  closedBy: string | null;
  /** Logical time of the last change: `updated_at`, and the `sort=updated` order. */
  updated: number;
  created: number;
}

/** Every GET answer carries an ETag; a conditional request for an unchanged one gets 304 (which costs no rate limit). */
export function conditional(method: string, status: number, text: string | undefined, ifNoneMatch: string | undefined, headers: Record<string, string>): [number, Record<string, string>] {
  if (method !== 'GET' || status !== 200) return [status, headers];
  const etag = `W/"${createHash('sha1').update(text ?? '').digest('hex')}"`;
  return ifNoneMatch === etag ? [304, { etag }] : [status, { ...headers, etag }];
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type Pager = <T>(url: URL, items: T[]) => Reply;

const EPOCH = Date.parse('2026-01-01T00:00:00Z');
const iso = (tick: number) => new Date(EPOCH + tick * 1000).toISOString();
/** GitHub's closing keywords: a merged PR whose body says "Closes #12" closes issue 12. */
const CLOSING = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)\b/gi;

export class FakeIssues {
  readonly issues = new Map<number, FakeIssue>();
  readonly labels = new Map<string, FakeLabel>();
  private clock = 0;

  constructor(
    private readonly o: { owner: string; repo: string; url: () => string; nextNumber: () => number; nextId: () => number; bot: { login: string } },
  ) {}

  /** A human (or a test) files an issue. */
  open(title: string, body: string, labels: string[], by = 'octocat'): FakeIssue {
    void by;
    for (const l of labels) this.ensureLabel(l);
    const t = ++this.clock;
    const issue: FakeIssue = { number: this.o.nextNumber(), title, body, state: 'open', state_reason: null, labels: [...labels], comments: [], closedBy: null, updated: t, created: t };
    this.issues.set(issue.number, issue);
    return issue;
  }

  close(number: number, by = 'octocat', reason: 'completed' | 'not_planned' = 'completed'): void {
    const i = this.issues.get(number)!;
    Object.assign(i, { state: 'closed', state_reason: reason, closedBy: by, updated: ++this.clock });
  }

  reopen(number: number): void {
    Object.assign(this.issues.get(number)!, { state: 'open', state_reason: 'reopened', closedBy: null, updated: ++this.clock });
  }

  setLabels(number: number, labels: string[]): void {
    for (const l of labels) this.ensureLabel(l);
    Object.assign(this.issues.get(number)!, { labels: [...labels], updated: ++this.clock });
  }

  /** What GitHub does when a PR merges into the default branch: issues its body names with a closing keyword close. */
  closeReferenced(prBody: string, by: string): number[] {
    const closed: number[] = [];
    for (const m of prBody.matchAll(CLOSING)) {
      const i = this.issues.get(Number(m[1]));
      if (i && i.state === 'open') {
        this.close(i.number, by, 'completed');
        closed.push(i.number);
      }
    }
    return closed;
  }

  private ensureLabel(name: string): FakeLabel {
    let l = this.labels.get(name.toLowerCase());
    if (!l) {
      l = { id: this.o.nextId(), name, color: 'ededed', description: null, default: false };
      this.labels.set(name.toLowerCase(), l);
    }
    return l;
  }

  json(i: FakeIssue, detail: boolean): Record<string, unknown> {
    const base = `${this.o.url()}/repos/${this.o.owner}/${this.o.repo}`;
    return {
      url: `${base}/issues/${i.number}`,
      html_url: `https://github.test/${this.o.owner}/${this.o.repo}/issues/${i.number}`,
      id: 1_000_000 + i.number,
      node_id: `I_fake${i.number}`,
      number: i.number,
      title: i.title,
      body: i.body,
      user: { login: 'octocat' },
      labels: i.labels.map((n) => this.ensureLabel(n)),
      state: i.state,
      state_reason: i.state_reason,
      locked: false,
      comments: i.comments.length,
      created_at: iso(i.created),
      updated_at: iso(i.updated),
      closed_at: i.state === 'closed' ? iso(i.updated) : null,
      ...(detail ? { closed_by: i.closedBy ? { login: i.closedBy } : null } : {}),
    };
  }

  /**
   * `GET|POST /issues`, `GET|PATCH /issues/{n}`, `GET|POST /issues/{n}/comments`, `GET /labels/{name}`.
   * `pulls` are the pull requests seen as issues (same numbers); undefined = not an issues route.
   */
  route(method: string, rest: string, url: URL, body: any, page: Pager, pulls: () => Array<Record<string, unknown>>): Reply | undefined {
    let m: RegExpMatchArray | null;
    if (rest === '/issues' && method === 'GET') return this.list(url, page, pulls);
    if (rest === '/issues' && method === 'POST') {
      if (typeof body.title !== 'string' || !body.title.trim()) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }] } };
      const labels = Array.isArray(body.labels) ? body.labels.map((l: unknown) => (typeof l === 'string' ? l : String((l as { name: string }).name))) : [];
      return { status: 201, body: this.json(this.open(body.title, String(body.body ?? ''), labels, this.o.bot.login), true) };
    }
    if ((m = rest.match(/^\/labels\/([^/]+)$/)) && method === 'GET') {
      const l = this.labels.get(decodeURIComponent(m[1]).toLowerCase());
      return l ? { status: 200, body: l } : { status: 404, body: { message: 'Not Found' } };
    }
    if (!(m = rest.match(/^\/issues\/(\d+)(\/comments)?$/))) return undefined;
    const issue = this.issues.get(Number(m[1]));
    if (!issue) return undefined; // maybe a pull request: the caller's comments route answers
    if (m[2]) {
      if (method === 'GET') return page(url, issue.comments);
      if (method !== 'POST') return undefined;
      const c = { id: this.o.nextId(), body: String(body.body), user: this.o.bot, created_at: iso(++this.clock) };
      issue.comments.push(c);
      issue.updated = this.clock;
      return { status: 201, body: c };
    }
    if (method === 'GET') return { status: 200, body: this.json(issue, true) };
    if (method !== 'PATCH') return undefined;
    if (body.state === 'closed' && issue.state === 'open') this.close(issue.number, this.o.bot.login, body.state_reason === 'not_planned' ? 'not_planned' : 'completed');
    if (body.state === 'open' && issue.state === 'closed') this.reopen(issue.number);
    if (typeof body.title === 'string') issue.title = body.title;
    if (typeof body.body === 'string') issue.body = body.body;
    if (Array.isArray(body.labels)) this.setLabels(issue.number, body.labels.map(String));
    issue.updated = ++this.clock;
    return { status: 200, body: this.json(issue, true) };
  }

  private list(url: URL, page: Pager, pulls: () => Array<Record<string, unknown>>): Reply {
    const q = url.searchParams;
    const state = q.get('state') ?? 'open';
    if (!['open', 'closed', 'all'].includes(state)) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'state', code: 'invalid' }] } };
    const wanted = (q.get('labels') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const sort = q.get('sort') ?? 'created';
    const asc = q.get('direction') === 'asc';
    const rows = [
      ...[...this.issues.values()].map((i) => ({ key: sort === 'updated' ? i.updated : i.created, state: i.state, labels: i.labels.map((l) => l.toLowerCase()), json: this.json(i, false) })),
      // Pull requests carry no labels here: a label filter leaves them out, as on GitHub for unlabelled PRs.
      ...pulls().map((p) => ({ key: Number(p.number), state: String(p.state), labels: [] as string[], json: { ...p, labels: [], pull_request: { url: p.url } } })),
    ]
      .filter((r) => state === 'all' || r.state === state)
      .filter((r) => wanted.every((w) => r.labels.includes(w)))
      .sort((a, b) => (asc ? a.key - b.key : b.key - a.key));
    return page(url, rows.map((r) => r.json));
  }
}
