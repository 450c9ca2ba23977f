/**
 * How the read commands, the brief, the dashboard and doctor name a task of one of several
 * repositories, and the check of a `--repo NAME` flag.
 */
import { UsageError } from '../errors.js';

/** A task as the operator reads it: `<repo>/<id>` in multi-repo mode (engine ids carry it already), the plain id otherwise. */
export function taskIdentity(multi: boolean, t: { id: string; repo: string }): string {
  return multi && !t.id.startsWith(`${t.repo}/`) ? `${t.repo}/${t.id}` : t.id;
}

/** `--repo NAME` checked against the repositories known (the adapter's, and any with tasks in the database). */
export function assertKnownRepo(name: string, known: readonly string[]): string {
  if (known.includes(name)) return name;
  throw new UsageError(`--repo: expected one of ${known.map((k) => JSON.stringify(k)).join(', ')}, got ${JSON.stringify(name)}.`, {
    fix: `Use a repository name from the adapter, e.g. --repo ${known[0] ?? '<name>'}.`,
  });
}
