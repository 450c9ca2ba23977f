import type { Clock } from '../../../src/clock.js';
import type { Adapter } from '../../../src/config/schema.js';
import { GitHubForge } from './github-forge.js';
import { makeOctokit, resolveToken } from './client.js';

/**
 * The GitHub forge an adapter describes. The token is read from the environment here and handed to
 * octokit only: it is never written to the database, the ledger, a log line or an agent's environment.
 */
export function githubForgeFor(adapter: Adapter, clock: Clock, options: { warn?: (line: string) => void } = {}): GitHubForge {
  const f = adapter.repo.forge;
  if (f.kind !== 'github') throw new Error(`githubForgeFor: the adapter's forge is "${f.kind}", not "github"`);
  const token = resolveToken(f.tokenEnv);
  const client = makeOctokit({
    token,
    ...(f.apiUrl ? { baseUrl: f.apiUrl } : {}),
    warn: options.warn ?? ((line) => process.stderr.write(`[github] ${line}\n`)),
  });
  return new GitHubForge({
    client,
    owner: f.owner,
    repo: f.name,
    mainClone: adapter.repo.path,
    mainBranch: adapter.repo.mainBranch,
    remote: f.remote ?? 'origin',
    branchPrefix: adapter.branches.prefix,
    clock,
    // CI is polled as often as PRs are watched, backing off from there.
    pollMs: adapter.engine.prWatchIntervalMs,
    checksTimeoutMs: adapter.checks.timeoutMs,
    token,
  });
}
