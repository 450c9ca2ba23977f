/**
 * What the sandbox must know about the host before it can draw the mounts of one launch: whether a sandbox
 * program works there, where the agent's program really lives, the workspace's git plumbing, which of the
 * paths it may bind or must mask exist. Gathered by small POSIX sh scripts run through the HostTransport,
 * so a local host and an SSH host answer the same questions the same way.
 */
import type { HostTransport } from '../../src/ports.js';

/** Prints `os <uname>`, then `bwrap <path>` / `version …` / `works yes|no <why>`, or `sandbox-exec <path>` on macOS. */
export const PROBE_SCRIPT = `
echo "os $(uname -s)"
if [ "$(uname -s)" = Darwin ]; then
  p=$(command -v sandbox-exec 2>/dev/null) && echo "sandbox-exec $p"
  exit 0
fi
p=$(command -v bwrap 2>/dev/null) || exit 0
echo "bwrap $p"
echo "version $(bwrap --version 2>&1 | head -n 1)"
if out=$(bwrap --ro-bind / / --unshare-pid --unshare-ipc --unshare-uts --proc /proc --dev /dev true 2>&1); then echo "works yes"
else echo "works no $(printf %s "$out" | head -n 1)"; fi`;

export interface ProbeResult {
  os: string;
  bwrap?: string;
  version?: string;
  /** undefined: bwrap works; else the error it printed. */
  broken?: string;
  sandboxExec?: string;
}

export function parseProbe(stdout: string): ProbeResult {
  const out: ProbeResult = { os: 'unknown' };
  for (const line of stdout.split('\n')) {
    const [key, ...rest] = line.split(' ');
    const value = rest.join(' ').trim();
    if (key === 'os') out.os = value;
    else if (key === 'bwrap') out.bwrap = value;
    else if (key === 'version') out.version = value;
    else if (key === 'works' && value !== 'yes') out.broken = value.replace(/^no ?/, '') || 'bwrap failed to start a namespace';
    else if (key === 'sandbox-exec') out.sandboxExec = value;
  }
  return out;
}

/**
 * $1 the program (argv[0]), $2 the workspace, $3 "mkdir" to create the backend's home dir, then that dir,
 * then paths whose kind is wanted (`~/` = $HOME). Prints tab-separated facts: program, pkgroot, node, home, gitdir,
 * commondir, alternate, and `dir`/`file`/`link <target>` for each existing path.
 */
export const FACTS_SCRIPT = `
prog=$1 ws=$2 mk=$3 mkdir_path=$4; shift 4
rp() { readlink -f -- "$1" 2>/dev/null || realpath -- "$1" 2>/dev/null; }
case "$prog" in */*) p=$prog;; *) p=$(command -v -- "$prog" 2>/dev/null);; esac
if [ -n "$p" ] && r=$(rp "$p") && [ -n "$r" ]; then
  printf 'program\\t%s\\n' "$r"
  d=\${r%/*}
  while [ -n "$d" ]; do
    if [ -f "$d/package.json" ]; then printf 'pkgroot\\t%s\\n' "$d"; break; fi
    d=\${d%/*}
  done
fi
n=$(command -v node 2>/dev/null) && r=$(rp "$n") && printf 'node\\t%s\\n' "$r"
[ -n "$HOME" ] && printf 'home\\t%s\\n' "$HOME"
case "$mkdir_path" in '~/'*) mkdir_path="$HOME/\${mkdir_path#??}";; esac
[ "$mk" = mkdir ] && [ -n "$mkdir_path" ] && mkdir -p -- "$mkdir_path" 2>/dev/null
o="$ws/.git/objects"
if [ -f "$ws/.git" ]; then
  g=$(sed -n 's/^gitdir: //p' "$ws/.git")
  case "$g" in /*) ;; *) g="$ws/$g";; esac
  printf 'gitdir\\t%s\\n' "$(rp "$g")"
  c=$g
  if [ -f "$g/commondir" ]; then read -r c < "$g/commondir"; case "$c" in /*) ;; *) c="$g/$c";; esac; fi
  c=$(rp "$c"); printf 'commondir\\t%s\\n' "$c"; o="$c/objects"
fi
if [ -f "$o/info/alternates" ]; then
  while IFS= read -r a || [ -n "$a" ]; do
    case "$a" in ''|'#'*) continue;; /*) ;; *) a="$o/$a";; esac
    printf 'alternate\\t%s\\n' "$(rp "$a")"
  done < "$o/info/alternates"
fi
for f; do
  case "$f" in '~/'*) f="$HOME/\${f#??}";; esac
  if [ -L "$f" ]; then printf 'link\\t%s\\t%s\\n' "$f" "$(readlink -- "$f")"
  elif [ -d "$f" ]; then printf 'dir\\t%s\\n' "$f"
  elif [ -e "$f" ]; then printf 'file\\t%s\\n' "$f"; fi
done`;

export type PathKind = { kind: 'dir' } | { kind: 'file' } | { kind: 'link'; target: string };

export interface LaunchFacts {
  /** The real path of argv[0] (symlinks resolved), if it was found on the agent's PATH. */
  program?: string;
  /** The nearest directory above the program holding a package.json (its npm package). */
  packageRoot?: string;
  /** The real path of the node the agent's PATH finds. */
  node?: string;
  home?: string;
  /** A linked worktree's own git dir and the common dir it shares (a `.git` file). */
  gitdir?: string;
  commondir?: string;
  /** Object directories the workspace borrows (`objects/info/alternates`). */
  alternates: string[];
  paths: Map<string, PathKind>;
}

export function parseFacts(stdout: string): LaunchFacts {
  const facts: LaunchFacts = { alternates: [], paths: new Map() };
  for (const line of stdout.split('\n')) {
    const [key, value, extra] = line.split('\t');
    if (!value) continue;
    if (key === 'program') facts.program = value;
    else if (key === 'pkgroot') facts.packageRoot = value;
    else if (key === 'node') facts.node = value;
    else if (key === 'home') facts.home = value;
    else if (key === 'gitdir') facts.gitdir = value;
    else if (key === 'commondir') facts.commondir = value;
    else if (key === 'alternate') facts.alternates.push(value);
    else if (key === 'dir' || key === 'file') facts.paths.set(value, { kind: key });
    else if (key === 'link') facts.paths.set(value, { kind: 'link', target: extra ?? '' });
  }
  return facts;
}

export async function probeHost(host: HostTransport): Promise<ProbeResult> {
  const r = await host.exec(['/bin/sh', '-c', PROBE_SCRIPT], { timeoutMs: 20_000 });
  return parseProbe(r.stdout);
}

export async function gatherFacts(host: HostTransport, input: { program: string; workspace: string; env: Record<string, string>; mkdir?: string; paths: readonly string[] }): Promise<LaunchFacts> {
  const argv = ['/bin/sh', '-c', FACTS_SCRIPT, 'oxi-sandbox', input.program, input.workspace, input.mkdir ? 'mkdir' : '-', input.mkdir ?? '', ...input.paths];
  const r = await host.exec(argv, { env: input.env, timeoutMs: 20_000 });
  return parseFacts(r.stdout);
}
