/**
 * The janitor's work on an SSH host: a finished task's (or shadow's) workspace and its refs in the host's clone,
 * removed in one round trip over the host's transport, bounded by the host's command timeout. The script decides
 * on the host, where links resolve: it deletes only a directory strictly inside the host's worktrees root, never a
 * symbolic link (nor what it points at), never the clone itself, never the clone's checked-out or main branch.
 */
import type { HostTransport } from '../../../src/ports.js';
import { HARDENED_CONFIG } from '../../git/git.js';
import { emptyReport, type LeftoverReport, type Leftovers } from '../leftovers.js';
import { UPSTREAM } from './remote-git.js';

export interface RemoteLeftovers extends Leftovers {
  /** Bound on the whole script on the host (its `timeout`); the transport adds its own grace. */
  timeoutMs: number;
}

/**
 * sh script: $1 root, $2 workspace ('' none), $3 clone ('' none), $4 refs (one a line), $5 main branch; "$@" after
 * them: git's hardened options. Prints `removed|gone|refused|failed <path or ref>` lines.
 */
const SCRIPT = `
root="$1"; ws="$2"; clone="$3"; refs="$4"; main="$5"; shift 5
export LC_ALL=C GIT_TERMINAL_PROMPT=0 GIT_NO_REPLACE_OBJECTS=1
r=$(cd -P -- "$root" 2>/dev/null && pwd -P) || r=
c=
if [ -n "$clone" ]; then c=$(cd -P -- "$clone" 2>/dev/null && pwd -P) || c=; fi
drop() {
  p="$1"; shift
  if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo "gone $p"; return; fi
  # A link is never followed nor removed; the parent is resolved, so ../ or a linked parent cannot lead out.
  if [ -L "$p" ]; then echo "refused $p"; return; fi
  b=$(basename -- "$p"); d=$(cd -P -- "$(dirname -- "$p")" 2>/dev/null && pwd -P) || d=
  case "$b" in ''|.|..) echo "refused $p"; return;; esac
  real="$d/$b"
  if [ -z "$r" ] || [ -z "$d" ]; then echo "refused $p"; return; fi
  case "$real" in "$r"/?*) ;; *) echo "refused $p"; return;; esac
  if [ -n "$c" ]; then case "$c/" in "$real"/*) echo "refused $p"; return;; esac; fi
  # A linked worktree (older oxi): the clone forgets it too.
  if [ -n "$c" ] && [ -f "$real/.git" ]; then git "$@" -C "$c" worktree remove --force --force "$real" >/dev/null 2>&1; fi
  rm -rf -- "$real" 2>/dev/null || { chmod -R u+w -- "$real" 2>/dev/null; rm -rf -- "$real" 2>/dev/null; }
  if [ -e "$real" ] || [ -L "$real" ]; then echo "failed $p"; else echo "removed $p"; fi
}
if [ -n "$ws" ]; then
  drop "$ws" "$@"
  if [ -e "$ws.partial" ] || [ -L "$ws.partial" ]; then drop "$ws.partial" "$@"; fi
fi
[ -n "$c" ] || exit 0
head=$(git "$@" -C "$c" symbolic-ref -q HEAD 2>/dev/null) || head=
printf '%s\\n' "$refs" | while IFS= read -r ref; do
  [ -n "$ref" ] || continue
  case "$ref" in "$head"|"refs/heads/$main"|"refs/remotes/${UPSTREAM}/$main") continue;; esac
  git "$@" -C "$c" rev-parse -q --verify "$ref" >/dev/null 2>&1 || continue
  if git "$@" -C "$c" update-ref -d "$ref" 2>/dev/null; then echo "removed $ref"; else echo "failed $ref"; fi
done
git "$@" -C "$c" worktree prune >/dev/null 2>&1 || true
`;

/**
 * Removes the leftovers on the host. Throws only what the transport throws (the host is out of reach, or did not
 * answer within the bound): the caller skips the host this time and keeps its rows.
 */
export async function removeRemoteLeftovers(host: HostTransport, input: RemoteLeftovers): Promise<LeftoverReport> {
  const argv = ['sh', '-c', SCRIPT, 'oxi', input.root, input.workspace ?? '', input.clone ?? '', input.refs.join('\n'), input.mainBranch, ...HARDENED_CONFIG];
  const r = await host.exec(argv, { timeoutMs: input.timeoutMs });
  const report = emptyReport();
  for (const line of r.stdout.split('\n')) {
    const space = line.indexOf(' ');
    const verdict = line.slice(0, space) as keyof LeftoverReport;
    if (space > 0 && verdict in report) report[verdict].push(line.slice(space + 1));
  }
  // A script cut off (its time limit, a missing sh) finished nothing for sure: whatever it did not report is left for next time.
  if (r.exitCode !== 0) report.failed.push(`(exit ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]}` : ''})`);
  return report;
}
