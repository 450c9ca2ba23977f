/**
 * The forge token: present, valid, and allowed to push and open PRs on the repository.
 * Classic tokens list their scopes in `X-OAuth-Scopes`; fine-grained tokens do not, so the
 * repository's `permissions` (what this token may do there) decide.
 */
import { findToken, tokenVariables } from '../../actors/forges/github/client.js';
import type { CheckProvider, CheckResult } from './types.js';

export const forgeChecks: CheckProvider = {
  name: 'forge',
  needsAdapter: true,
  async check(ctx) {
    const forge = ctx.adapter!.repo.forge;
    if (forge.kind === 'local') return [{ id: 'forge', status: 'ok', detail: 'local forge: PRs are rows in the database, merged with git' }];
    const id = 'forge:github';
    // The same lookup the engine makes (tokenEnv, then GH_TOKEN, then GITHUB_TOKEN): doctor judges the token oxi would send.
    const found = findToken(forge.tokenEnv, ctx.env);
    if (!found)
      return [{ id, status: 'fail', detail: `no token: none of ${tokenVariables(forge.tokenEnv).map((n) => `$${n}`).join(', ')} is set`, fix: `Create a token with the "repo" scope (classic) or Contents + Pull requests read/write (fine-grained) and export ${forge.tokenEnv}=… in oxi's environment.` }];
    const token = found.value;
    const source = `$${found.name}`;
    const api = (forge.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
    let res: Response;
    try {
      res = await ctx.fetch(`${api}/repos/${encodeURIComponent(forge.owner)}/${encodeURIComponent(forge.name)}`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'oxi-doctor' },
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      return [{ id, status: 'fail', detail: `cannot reach ${api}${code ? ` (${code})` : ''}`, fix: 'Check the network, or repo.forge.apiUrl for GitHub Enterprise.' }];
    }
    const body = (await res.json().catch(() => ({}))) as { permissions?: { push?: boolean; admin?: boolean }; full_name?: string };
    const repo = `${forge.owner}/${forge.name}`;
    if (res.status === 401)
      return [{ id, status: 'fail', detail: `the token in ${source} is rejected (401: invalid or expired)`, fix: `Create a new token and update ${source} in oxi's environment${found.name !== forge.tokenEnv ? ` (or set $${forge.tokenEnv}, which is read first)` : ''}.` }];
    if (res.status === 404 || res.status === 403)
      return [{ id, status: 'fail', detail: `the token in ${source} cannot see ${repo} (${res.status})`, fix: `Check repo.forge.owner/name, and grant the token access to ${repo}.` }];
    if (!res.ok) return [{ id, status: 'warn', detail: `GitHub answered ${res.status} for ${repo}`, fix: 'Retry later; see https://www.githubstatus.com.' }];

    const results: CheckResult[] = [];
    const scopes = res.headers.get('x-oauth-scopes');
    if (scopes !== null) {
      const list = scopes.split(',').map((s) => s.trim()).filter(Boolean);
      if (!list.includes('repo') && !list.includes('public_repo'))
        results.push({ id: 'forge:scopes', status: 'fail', detail: `token scopes: ${list.join(', ') || 'none'}; expected "repo"`, fix: 'Regenerate the classic token with the "repo" scope (and "workflow" if PRs touch .github/workflows).' });
      else results.push({ id: 'forge:scopes', status: 'ok', detail: `token scopes: ${list.join(', ')}` });
    }
    if (body.permissions && !body.permissions.push)
      results.push({ id, status: 'fail', detail: `the token in ${source} may read ${repo} but not push to it`, fix: 'Grant Contents: read/write and Pull requests: read/write (fine-grained), or use a token of a collaborator with write access.' });
    else results.push({ id, status: 'ok', detail: `${body.full_name ?? repo}: the token in ${source} may push and open PRs (proven by one API read)` });
    return results;
  },
};
