/**
 * The janitor's work on an SSH host: finished tasks' (and shadow runs') workspaces and their refs in the host's
 * clone, removed in one round trip per batch over the host's transport, bounded by the host's command timeout.
 * The script decides on the host, where links resolve: it deletes only a directory at least two levels inside the
 * host's worktrees root, never a symbolic link (nor what it points at), never the clone itself, never the clone's
 * checked-out or main branch.
 */
import type { HostTransport } from '../../../src/ports.js';
import { HARDENED_CONFIG } from '../../git/git.js';
import { runRemovalScript, type LeftoverReport, type Leftovers } from '../leftovers.js';
import { UPSTREAM } from './remote-git.js';
import { shJoin } from './shell.js';

/** Fields of one item on the script's command line. */
const FIELDS = 5;

/**
 * sh script: items of FIELDS arguments each (root, workspace or '', clone or '', refs one a line, main branch).
 * For item N it prints `item N`, then `removed|gone|refused|failed <path or ref>` lines, then `done N`.
 */
const SCRIPT = `
export LC_ALL=C GIT_TERMINAL_PROMPT=0 GIT_NO_REPLACE_OBJECTS=1
g() { git ${shJoin(HARDENED_CONFIG)} "$@"; }
resolved() { (cd -P -- "$1" 2>/dev/null && pwd -P); }
drop() {
  p="$1"
  if [ ! -e "$p" ] && [ ! -L "$p" ]; then printf '%s %s\\n' gone "$p"; return; fi
  # A link is never followed nor removed; the parent is resolved, so ../ or a linked parent cannot lead out.
  if [ -L "$p" ]; then printf '%s %s\\n' refused "$p"; return; fi
  b=$(basename -- "$p"); d=$(resolved "$(dirname -- "$p")") || d=
  case "$b" in ''|.|..) printf '%s %s\\n' refused "$p"; return;; esac
  real="$d/$b"
  if [ -z "$r" ] || [ -z "$d" ]; then printf '%s %s\\n' refused "$p"; return; fi
  # At least two levels in (<root>/<namespace>/<name>): never a namespace folder holding every task's workspace.
  case "$real" in "$r"/?*/?*) ;; *) printf '%s %s\\n' refused "$p"; return;; esac
  if [ -n "$c" ]; then case "$c/" in "$real"/*) printf '%s %s\\n' refused "$p"; return;; esac; fi
  # A linked worktree (older oxi): the clone forgets it too.
  if [ -n "$c" ] && [ -f "$real/.git" ]; then g -C "$c" worktree remove --force --force "$real" >/dev/null 2>&1; linked=1; fi
  rm -rf -- "$real" 2>/dev/null || { chmod -R u+w -- "$real" 2>/dev/null; rm -rf -- "$real" 2>/dev/null; }
  if [ -e "$real" ] || [ -L "$real" ]; then printf '%s %s\\n' failed "$p"; else printf '%s %s\\n' removed "$p"; fi
}
refs() {
  head=$(g -C "$c" symbolic-ref -q HEAD 2>/dev/null) || head=
  printf '%s\\n' "$1" | while IFS= read -r ref; do
    [ -n "$ref" ] || continue
    case "$ref" in "$head"|"refs/heads/$2"|"refs/remotes/${UPSTREAM}/$2") continue;; esac
    g -C "$c" rev-parse -q --verify "$ref" >/dev/null 2>&1 || continue
    if g -C "$c" update-ref -d "$ref" 2>/dev/null; then printf '%s %s\\n' removed "$ref"; else printf '%s %s\\n' failed "$ref"; fi
  done
}
n=0
while [ "$#" -ge ${FIELDS} ]; do
  printf '%s %s\\n' item "$n"
  r=$(resolved "$1") || r=
  c=; if [ -n "$3" ]; then c=$(resolved "$3") || c=; fi
  linked=
  if [ -n "$2" ]; then
    drop "$2"
    if [ -e "$2.partial" ] || [ -L "$2.partial" ]; then drop "$2.partial"; fi
  fi
  if [ -n "$c" ] && [ -n "$4" ]; then refs "$4" "$5"; fi
  # The clone's worktree list keeps no entry for a directory that is gone.
  if [ -n "$c" ] && { [ -n "$4" ] || [ -n "$linked" ]; }; then g -C "$c" worktree prune >/dev/null 2>&1; fi
  printf '%s %s\\n' done "$n"
  n=$((n+1)); shift ${FIELDS}
done
`;

/**
 * Removes the leftovers of `items` on the host, in order, in one round trip bounded by `timeoutMs` (the host's own
 * `timeout`; the transport adds its grace). An item the script did not finish (cut off by the bound) reports a
 * failure and is tried again next time. Throws only what the transport throws: the host is out of reach, or did
 * not answer within the bound; the caller skips the host this time and keeps its rows.
 */
export async function removeRemoteLeftovers(host: HostTransport, items: readonly Leftovers[], timeoutMs: number): Promise<LeftoverReport[]> {
  if (!items.length) return [];
  const args = items.flatMap((i) => [i.root, i.workspace ?? '', i.clone ?? '', i.refs.join('\n'), i.mainBranch]);
  return runRemovalScript(host, SCRIPT, args, items.length, timeoutMs);
}
