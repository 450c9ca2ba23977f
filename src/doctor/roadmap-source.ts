/**
 * The configured roadmap source: the markdown file parses, or GitHub Issues answers for the labels
 * (token found, the labelled issues listed, each `include` label existing) — one check per source.
 */
import { findToken, tokenVariables } from '../../actors/forges/github/client.js';
import type { Adapter } from '../config/schema.js';
import type { GithubIssuesRoadmapConfig } from '../config/roadmap-schema.js';
import { roadmapChecks } from '../preflight/preflight.js';
import type { CheckProvider, CheckResult, DoctorContext } from './types.js';

export const roadmapSourceChecks: CheckProvider = {
  name: 'roadmap',
  needsAdapter: true,
  async check(ctx) {
    const adapter = ctx.adapter!;
    const source = adapter.roadmapSource ?? { source: 'markdown', path: adapter.roadmap };
    // The markdown file gets the preflight's checks: each unrecognised heading or item is a line of its own.
    return source.source === 'markdown' ? roadmapChecks(adapter) : githubIssuesCheck(ctx, adapter, source);
  },
};

async function githubIssuesCheck(ctx: DoctorContext, adapter: Adapter, cfg: GithubIssuesRoadmapConfig): Promise<CheckResult[]> {
  const id = 'roadmap:github-issues';
  const forge = adapter.repo.forge;
  if (forge.kind !== 'github') return [{ id, status: 'fail', detail: 'the GitHub Issues roadmap needs repo.forge.kind "github"', fix: 'Set repo.forge to your GitHub repository, or use the markdown roadmap.' }];
  const found = findToken(forge.tokenEnv, ctx.env);
  if (!found) return [{ id, status: 'fail', detail: `no token: none of ${tokenVariables(forge.tokenEnv).map((n) => `$${n}`).join(', ')} is set`, fix: `Export a token with Issues: read and write as ${forge.tokenEnv}.` }];
  const api = `${(forge.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '')}/repos/${encodeURIComponent(forge.owner)}/${encodeURIComponent(forge.name)}`;
  const get = (path: string) =>
    ctx.fetch(`${api}${path}`, { headers: { authorization: `Bearer ${found.value}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'oxi-doctor' }, signal: AbortSignal.timeout(15_000) });
  const labels = cfg.labels.include.join(',');
  let res: Response;
  try {
    res = await get(`/issues?state=open&labels=${encodeURIComponent(labels)}&per_page=100`);
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    return [{ id, status: 'fail', detail: `cannot reach ${api}${code ? ` (${code})` : ''}`, fix: 'Check the network, or repo.forge.apiUrl for GitHub Enterprise.' }];
  }
  if (!res.ok) {
    const fix = res.status === 401 ? `Create a new token and update $${found.name}.` : `Grant the token in $${found.name} Issues: read and write on ${forge.owner}/${forge.name}, and check repo.forge.owner/name.`;
    return [{ id, status: 'fail', detail: `listing the issues labelled ${labels} answered ${res.status}`, fix }];
  }
  const issues = ((await res.json().catch(() => [])) as Array<{ pull_request?: unknown; labels?: Array<{ name?: string } | string> }>).filter((i) => !i.pull_request);
  const untiered = issues.filter((i) => !(i.labels ?? []).some((l) => (typeof l === 'string' ? l : l.name ?? '') in cfg.labels.tiers)).length;
  const results: CheckResult[] = [
    { id, status: 'ok', detail: `${forge.owner}/${forge.name}: ${issues.length}${issues.length === 100 ? '+' : ''} open issue(s) labelled ${labels}${untiered ? `, ${untiered} without a tier label` : ''}` },
  ];
  for (const label of cfg.labels.include) {
    const l = await get(`/labels/${encodeURIComponent(label)}`).catch(() => undefined);
    if (l?.status === 404) results.push({ id: `roadmap:label:${label}`, status: 'warn', detail: `the label "${label}" does not exist in ${forge.owner}/${forge.name}`, fix: `Create it (gh label create ${label}) and put it on the issues oxi should work on.` });
  }
  return results;
}
