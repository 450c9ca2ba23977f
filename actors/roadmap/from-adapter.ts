import type { Adapter } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import type { RoadmapSource } from '../../src/roadmap/source.js';
import { makeOctokit, resolveToken } from '../forges/github/client.js';
import { GithubIssuesSource } from './github-issues.js';
import { MarkdownRoadmapSource } from './markdown-source.js';

/** The roadmap source an adapter describes; GitHub Issues uses the GitHub forge's repository and token. */
export function roadmapSourceFor(adapter: Adapter, options: { warn?: (line: string) => void } = {}): RoadmapSource {
  const cfg = adapter.roadmapSource ?? { source: 'markdown', path: adapter.roadmap };
  if (cfg.source === 'markdown') return new MarkdownRoadmapSource(cfg.path);
  const f = adapter.repo.forge;
  if (f.kind !== 'github') {
    throw new ConfigError('roadmap.source: "github-issues" needs repo.forge.kind "github", got "local".', { fix: 'Set repo.forge to your GitHub repository, or use the markdown roadmap.' });
  }
  const client = makeOctokit({ token: resolveToken(f.tokenEnv), ...(f.apiUrl ? { baseUrl: f.apiUrl } : {}), warn: options.warn ?? ((line) => process.stderr.write(`[github] ${line}\n`)) });
  return new GithubIssuesSource({ client, owner: f.owner, repo: f.name, config: cfg });
}
