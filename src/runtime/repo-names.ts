/**
 * Which repositories one engine serves, as the read commands, the brief, the dashboard and doctor
 * name them: the adapter's `repos` in multi-repo mode, else the single repository under the
 * adapter's name (the `tasks.repo` value a single-repo engine writes).
 */
import type { Adapter } from '../config/schema.js';
import { UsageError } from '../errors.js';

interface RepoNamed {
  name: string;
}

/** The adapter's repositories by name, in config order. */
export function repoNames(adapter: Adapter): string[] {
  const repos = (adapter as Adapter & { repos?: RepoNamed[] }).repos;
  return repos?.length ? repos.map((r) => r.name) : [adapter.name];
}

/** Whether the adapter names `repos` (task identity `<repo>/<id>`) rather than one `repo`. */
export function isMultiRepo(adapter: Adapter): boolean {
  return Boolean((adapter as Adapter & { repos?: RepoNamed[] }).repos?.length);
}

/** A task as the operator reads it: `<repo>/<id>` in multi-repo mode, the plain id otherwise. */
export function taskIdentity(multi: boolean, t: { id: string; repo: string }): string {
  return multi && !t.id.startsWith(`${t.repo}/`) ? `${t.repo}/${t.id}` : t.id;
}

/** `--repo NAME` checked against the repositories known (the adapter's, and any with tasks in the database). */
export function assertKnownRepo(name: string, known: readonly string[]): string {
  if (known.includes(name)) return name;
  throw new UsageError(`--repo: expected one of ${known.map((k) => JSON.stringify(k)).join(', ')}, got ${JSON.stringify(name)}.`, {
    fix: `Use a repository name from the adapter (oxi tasks --repo ${known[0] ?? '<name>'}).`,
  });
}
