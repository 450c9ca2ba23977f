/**
 * With several repositories (`repos`), each host's clone of each one: a local host works in the
 * repository's `path` (it must be a git repository); an SSH host in its `repos.<name>.mainClone`
 * (it must exist there and be a clone with an origin, as the single `mainClone` is checked).
 * One result per host and repository, named `clone:<repo>`.
 */
import { isMultiRepo, repoViews } from '../config/repos.js';
import type { Adapter, HostConfig } from '../config/schema.js';
import type { HostTransport } from '../ports.js';

export interface CloneCheck {
  name: `clone:${string}`;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

export async function repoCloneChecks(adapter: Adapter, cfg: HostConfig, host: HostTransport): Promise<CloneCheck[]> {
  if (!isMultiRepo(adapter)) return [];
  const checks: CloneCheck[] = [];
  for (const view of repoViews(adapter)) {
    const name = `clone:${view.name}` as const;
    if (cfg.kind === 'local') {
      const path = view.repo.path;
      const r = await host.exec(['git', '-C', path, 'rev-parse', '--git-dir']);
      checks.push(r.exitCode === 0
        ? { name, status: 'ok', detail: `${view.name}: ${path} is a git repository` }
        : { name, status: 'fail', detail: `${view.name}: ${path} is not a git repository: ${r.stderr.trim()}`, fix: `git clone <the ${view.name} repository> ${path}, or point repos.${view.name}.path at its clone.` });
      continue;
    }
    const clone = cfg.repos?.[view.name]?.mainClone;
    if (clone === undefined) {
      checks.push({ name, status: 'warn', detail: `${view.name}: no clone on "${cfg.name}" (hosts.${cfg.name}.repos.${view.name} is not set): its tasks go to other hosts`, fix: `Clone it on "${cfg.name}" and add repos: { ${view.name}: { mainClone: "/path/on/host" } } to the host, or leave it to other hosts.` });
      continue;
    }
    const r = await host.exec(['git', '-C', clone, 'remote', 'get-url', 'origin']);
    checks.push(r.exitCode === 0
      ? { name, status: 'ok', detail: `${view.name}: ${clone} (origin ${r.stdout.trim()})` }
      : { name, status: 'fail', detail: `${view.name}: ${clone} is not a clone with an origin remote: ${r.stderr.trim()}`, fix: `On "${cfg.name}": git clone <the ${view.name} repository> ${clone}` });
  }
  return checks;
}

/** The checks a host that could not be reached skips, one per repository. */
export function skippedCloneChecks(adapter: Adapter, why: string): Array<{ name: `clone:${string}`; status: 'skip'; detail: string }> {
  return isMultiRepo(adapter) ? repoViews(adapter).map((v) => ({ name: `clone:${v.name}` as const, status: 'skip' as const, detail: why })) : [];
}
