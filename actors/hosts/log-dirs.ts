/**
 * A finished task's log directory on a host (its agents' stream files, every role): `<logs>/<task>` on the engine's
 * machine, `<worktreesRoot>/.oxi-logs/<namespace>/<task>` on an SSH host. Deleted only when it is a directory right
 * inside its logs root, reached without a link (its parent resolved must be the root resolved); never a link, nor
 * what it points at, nor the root. On an SSH host, where agents' sandboxes may write under `.oxi-logs`, a root that
 * is itself a link (or whose parent is) is refused too. An SSH host's side decides on the host, where its links resolve, in one round trip.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { HostTransport } from '../../src/ports.js';
import { emptyReport, removeTree, runRemovalScript, type LeftoverReport } from './leftovers.js';

export interface LogDir {
  /** The host's logs root: nothing but a directory right inside it is deleted. */
  root: string;
  /** The task's log directory, `<root>/<task>`. */
  dir: string;
}

const real = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

/** Removes a task's log directory on the engine's own machine. */
export async function removeLocalLogDir(input: LogDir): Promise<LeftoverReport> {
  const report = emptyReport();
  const info = lstatSync(input.dir, { throwIfNoEntry: false });
  if (!info) {
    report.gone.push(input.dir);
    return report;
  }
  const name = basename(input.dir);
  const parent = real(dirname(input.dir));
  const root = real(input.root);
  if (info.isSymbolicLink() || !info.isDirectory() || name === '.' || name === '..' || !root || parent !== root) {
    report.refused.push(input.dir);
    return report;
  }
  (await removeTree(join(parent, name)) ? report.removed : report.failed).push(input.dir);
  return report;
}

/**
 * sh script: items of two arguments each (root, dir). For item N it prints `item N`, then one
 * `removed|gone|refused|failed <dir>` line, then `done N`.
 */
const SCRIPT = `
export LC_ALL=C
resolved() { (cd -P -- "$1" 2>/dev/null && pwd -P); }
n=0
while [ "$#" -ge 2 ]; do
  printf '%s %s\\n' item "$n"
  p="$2"
  if [ ! -e "$p" ] && [ ! -L "$p" ]; then printf '%s %s\\n' gone "$p"
  # A link is never followed nor removed; the parent is resolved, so ../ or a linked parent cannot lead out.
  elif [ -L "$p" ] || [ ! -d "$p" ]; then printf '%s %s\\n' refused "$p"
  else
    # The root and its parent (.oxi-logs) are written by agents' sandboxes too: one made a link leads nowhere.
    r=; if [ ! -L "$1" ] && [ ! -L "$(dirname -- "$1")" ]; then r=$(resolved "$1") || r=; fi
    b=$(basename -- "$p"); d=$(resolved "$(dirname -- "$p")") || d=
    case "$b" in ''|.|..) d=;; esac
    if [ -z "$r" ] || [ "$d" != "$r" ]; then printf '%s %s\\n' refused "$p"
    else
      rm -rf -- "$d/$b" 2>/dev/null || { chmod -R u+w -- "$d/$b" 2>/dev/null; rm -rf -- "$d/$b" 2>/dev/null; }
      if [ -e "$d/$b" ] || [ -L "$d/$b" ]; then printf '%s %s\\n' failed "$p"; else printf '%s %s\\n' removed "$p"; fi
    fi
  fi
  printf '%s %s\\n' done "$n"
  n=$((n+1)); shift 2
done
`;

/**
 * Removes the log directories `items` on an SSH host, in one round trip bounded by `timeoutMs`. An item the script
 * did not finish reports a failure (tried again next time). Throws only what the transport throws (out of reach).
 */
export async function removeRemoteLogDirs(host: HostTransport, items: readonly LogDir[], timeoutMs: number): Promise<LeftoverReport[]> {
  if (!items.length) return [];
  return runRemovalScript(host, SCRIPT, items.flatMap((i) => [i.root, i.dir]), items.length, timeoutMs);
}
