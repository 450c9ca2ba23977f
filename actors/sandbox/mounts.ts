/**
 * The pure part of the sandbox: from the facts of one launch, the list of mounts that make up the agent's
 * view of the file system. Nothing is visible unless bound: system dirs and the agent's program read-only,
 * its workspace (worker: read-write; planner, critic: read-only), the git objects it borrows, and the part
 * of the home its backend needs. Later mounts override earlier ones, so the order is the design:
 *   1. system dirs, then the program's install dirs (read-only),
 *   2. masks over hidden paths (state dir, main clone, other workspaces, logs, home) that a bind of 1 exposed,
 *   3. install dirs a mask of 2 covered, bound again,
 *   4. the workspace, its git plumbing, the backend's home, $TMPDIR,
 *   5. read-only protections on top of 4 (agent config that runs commands, a shared git dir's hooks/config),
 *      and masks over hidden paths inside 4.
 */
import { dirname, posix } from 'node:path';
import type { SandboxRequest } from '../../src/sandbox/port.js';
import type { LaunchFacts, PathKind } from './facts.js';

export type Mount =
  | { op: 'ro' | 'rw'; src: string; dest: string; /** skipped when src does not exist */ optional?: boolean }
  /** An empty dir: a mask over a hidden dir, or (scratch) a private writable temp dir. */
  | { op: 'tmpfs'; dest: string; scratch?: boolean }
  /** A file hidden behind an empty read-only one (/dev/null). */
  | { op: 'hide-file'; dest: string }
  | { op: 'symlink'; target: string; dest: string };

export interface MountPlan {
  mounts: Mount[];
  /** The agent's argv, its program resolved to the real path the mounts expose. */
  argv: string[];
  chdir: string;
  /** `proxy`: no network but the allowlist proxy, through a bridge in the sandbox (actors/network). */
  network: 'open' | 'none' | 'proxy';
  /** With `proxy`: the directory holding the proxy's socket, the socket's name, and the bridge (actors/network/bridge.ts). */
  proxy?: { dir: string; socket: string; bridge: { program: string; script: string } };
  dieWithParent: boolean;
  /** The agent's env has no PWD: bwrap sets one after --chdir, so it is unset again (the env stays the whitelist). */
  clearPwd: boolean;
}

export const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt', '/run/systemd/resolve'];
/** Files of /etc that hold secrets (password hashes, host keys, TLS private keys, sudo rules). */
export const ETC_SECRETS = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/ssh', '/etc/ssl/private', '/etc/sudoers', '/etc/sudoers.d', '/etc/security/opasswd'];

/** The part of the home a backend needs (`~/` = the agent's HOME): read-write, with protections read-only on top. */
export function backendHome(backend: string, env: Record<string, string>): { rw: string[]; protect: string[]; mkdir?: string } {
  if (backend === 'claude') {
    const protect = ['settings.json', 'settings.local.json', 'CLAUDE.md', 'commands', 'agents', 'hooks', 'plugins', 'skills'].map((p) => `~/.claude/${p}`);
    return { rw: ['~/.claude', '~/.claude.json'], protect, mkdir: '~/.claude' };
  }
  if (backend === 'codex') {
    const home = env.CODEX_HOME ?? '~/.codex';
    return { rw: [home], protect: ['config.toml', 'AGENTS.md', 'AGENTS.override.md', 'rules'].map((p) => `${home}/${p}`), mkdir: home };
  }
  return { rw: [], protect: [] };
}

/** Every path whose kind the planner needs to know, for the facts script (`~/` expanded there). */
export function factPaths(request: SandboxRequest, hidden: readonly string[], writable: readonly string[] = []): string[] {
  const home = backendHome(request.backend, request.env);
  return [...SYSTEM_DIRS, ...ETC_SECRETS, ...hidden, ...writable, ...home.rw, ...home.protect, ...(request.readOnly ?? []), ...(request.writablePaths ?? []), ...(request.env.TMPDIR ? [request.env.TMPDIR] : []), request.workspace];
}

export const isUnder = (path: string, dir: string): boolean => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
const depth = (p: string) => p.split('/').length;
const byDepth = <T extends { dest: string }>(xs: T[]) => [...xs].sort((a, b) => depth(a.dest) - depth(b.dest));

/** `~/x` → `<home>/x`; the facts script expanded it the same way. */
export function expandHome(path: string, home: string | undefined): string {
  return path.startsWith('~/') && home ? posix.join(home, path.slice(2)) : path;
}

/** The directory tree that holds the agent's program: its npm package (with the node_modules around it), else its own dir. */
export function installRoot(program: string, packageRoot: string | undefined): string {
  if (!packageRoot) return dirname(program);
  const at = packageRoot.indexOf('/node_modules/');
  // Why: npm hoists a package's dependencies to the outermost node_modules; a bind of the package alone would miss them.
  return at >= 0 ? packageRoot.slice(0, at + '/node_modules'.length) : packageRoot;
}

export function planMounts(input: { request: SandboxRequest; facts: LaunchFacts; hidden: readonly string[]; network: MountPlan['network']; proxy?: MountPlan['proxy']; writable?: readonly string[] }): MountPlan {
  const { request, facts } = input;
  const kind = (p: string): PathKind | undefined => facts.paths.get(p);
  const home = backendHome(request.backend, request.env);
  const here = (p: string) => expandHome(p, facts.home);
  const mounts: Mount[] = [];

  // 1. System dirs (a merged-/usr symlink stays a symlink), then the program's install dirs.
  const system: Mount[] = [];
  for (const dir of SYSTEM_DIRS) {
    const k = kind(dir);
    if (k?.kind === 'link') system.push({ op: 'symlink', target: k.target, dest: dir });
    else if (k?.kind === 'dir') system.push({ op: 'ro', src: dir, dest: dir });
  }
  const systemDirs = system.filter((m) => m.op === 'ro').map((m) => m.dest);
  const tools = new Set<string>();
  if (facts.program) tools.add(installRoot(facts.program, facts.packageRoot));
  if (facts.node) {
    const bin = dirname(facts.node);
    tools.add(posix.basename(bin) === 'bin' ? dirname(bin) : bin);
  }
  for (const p of request.readOnly ?? []) if (kind(p)) tools.add(p);
  const toolMounts: Mount[] = [...tools].filter((t) => t !== '/' && !systemDirs.some((s) => isUnder(t, s))).map((t) => ({ op: 'ro', src: t, dest: t }));
  mounts.push(...byDepth(system), ...byDepth(toolMounts));

  // 2. Hidden paths a bind above exposed: masked. The home too, when an install dir holds it.
  const broad = [...systemDirs, ...toolMounts.map((m) => m.dest)];
  const hidden = [...input.hidden, ...(facts.home ? [facts.home] : [])].filter((h) => kind(h) && kind(h)!.kind !== 'link');
  const maskOf = (h: string): Mount => (kind(h)!.kind === 'dir' ? { op: 'tmpfs', dest: h } : { op: 'hide-file', dest: h });
  const exposed = hidden.filter((h) => broad.some((b) => isUnder(h, b)));
  const masks = exposed.filter((h) => !exposed.some((o) => o !== h && isUnder(h, o))).map(maskOf);
  if (systemDirs.includes('/etc')) for (const s of ETC_SECRETS) if (kind(s)) masks.push(maskOf(s));
  mounts.push(...byDepth(masks));

  // 3. Install dirs under a mask, bound again (the masks hide the rest of what holds them).
  mounts.push(...byDepth(toolMounts.filter((m) => masks.some((k) => k.op === 'tmpfs' && isUnder(m.dest, k.dest) && m.dest !== k.dest))));

  // 4. What this session works on.
  const own: Mount[] = [];
  for (const a of facts.alternates) own.push({ op: 'ro', src: a, dest: a });
  // A linked worktree keeps its index and refs in the main clone's git dir: writable, or git cannot commit.
  if (facts.commondir) own.push({ op: request.writable ? 'rw' : 'ro', src: facts.commondir, dest: facts.commondir });
  if (facts.gitdir && facts.gitdir !== facts.commondir) own.push({ op: request.writable ? 'rw' : 'ro', src: facts.gitdir, dest: facts.gitdir });
  for (const p of home.rw.map(here)) if (kind(p)) own.push({ op: 'rw', src: p, dest: p });
  // The operator's extra writable paths (agents.sandbox.writable), for every role.
  for (const p of (input.writable ?? []).map(here)) if (kind(p)) own.push({ op: 'rw', src: p, dest: p });
  // This launch's own writable paths (the setup's cache directory): bound for it alone.
  for (const p of request.writablePaths ?? []) if (kind(p)?.kind === 'dir') own.push({ op: 'rw', src: p, dest: p });
  const tmpdir = request.env.TMPDIR;
  if (tmpdir && tmpdir.startsWith('/') && !isUnder(tmpdir, '/tmp')) own.push({ op: 'tmpfs', dest: tmpdir, scratch: true });
  own.push({ op: request.writable ? 'rw' : 'ro', src: request.workspace, dest: request.workspace });
  mounts.push(...byDepth(own));

  // 5. Protections on top: agent config that runs commands, a shared git dir's hooks and config, hidden paths inside.
  const top: Mount[] = [];
  for (const p of home.protect.map(here)) if (kind(p)) top.push({ op: 'ro', src: p, dest: p });
  if (facts.commondir && request.writable) for (const p of ['hooks', 'config']) top.push({ op: 'ro', src: `${facts.commondir}/${p}`, dest: `${facts.commondir}/${p}`, optional: true });
  const inner = hidden.filter((h) => own.some((o) => o.dest !== h && isUnder(h, o.dest)) && !own.some((o) => o.dest !== h && isUnder(o.dest, h)));
  for (const h of inner) if (!inner.some((o) => o !== h && isUnder(h, o))) top.push(maskOf(h));
  mounts.push(...byDepth(top));

  const [program, ...args] = request.argv;
  return {
    mounts,
    argv: [facts.program ?? program, ...args],
    chdir: request.workspace,
    network: input.network,
    ...(input.proxy ? { proxy: input.proxy } : {}),
    dieWithParent: request.waited,
    clearPwd: request.env.PWD === undefined,
  };
}
