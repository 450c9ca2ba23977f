/**
 * `oxi doctor`'s host checks: for each host of the adapter, whether it is reachable, its key known,
 * git and the worker's agent CLI present, the agent's credentials in place, and (SSH) the clone usable.
 * Every check returns a result — one failing check never hides the others.
 */
import { LocalHost } from '../../actors/hosts/local-host.js';
import { HostSandbox } from '../../actors/sandbox/sandbox.js';
import { sandboxResult } from './sandbox.js';
import { repoCloneChecks, skippedCloneChecks } from './repo-clones.js';
import { sshHostFromConfig } from '../../actors/hosts/ssh/from-adapter.js';
import { networkSettings, networkStatus, networkVerdict } from '../../actors/network/policy.js';
import type { Adapter, HostConfig } from '../config/schema.js';
import { HostKeyError, HostUnreachableError } from '../errors.js';
import type { HostTransport } from '../ports.js';

export type CheckName = 'reachable' | 'host_key' | 'git' | 'agent_cli' | 'credentials' | 'main_clone' | 'sandbox' | 'network' | `clone:${string}`;
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface HostCheck {
  name: CheckName;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface HostReport {
  host: string;
  kind: HostConfig['kind'];
  ok: boolean;
  /** Connect + first command, in ms (SSH hosts). */
  latencyMs?: number;
  checks: HostCheck[];
}

/** The program the worker backend runs, and where its login lives on the host. */
function agentFacts(adapter: Adapter): { cli: string; credentials?: string[] } {
  switch (adapter.agents.worker.backend) {
    case 'claude':
      return { cli: 'claude', credentials: ['.claude/.credentials.json', '.claude.json'] };
    case 'codex':
      return { cli: 'codex', credentials: ['.codex/auth.json'] };
    default:
      return { cli: process.execPath }; // the scripted worker runs on the engine's node
  }
}

// A check answers within 10 s unless the adapter set its own connect timeout for the host.
export async function checkHost(adapter: Adapter, cfg: HostConfig, transport?: HostTransport): Promise<HostReport> {
  const host: HostTransport = transport ?? (cfg.kind === 'ssh' ? sshHostFromConfig(cfg, { backoffBaseMs: 0, readyTimeoutMs: cfg.connection?.connectTimeoutMs ?? 10_000 }) : new LocalHost(cfg.name));
  const checks: HostCheck[] = [];
  const skipRest = (why: string) => {
    for (const name of ['git', 'agent_cli', 'credentials', ...(cfg.kind === 'ssh' ? ['main_clone'] : []), 'sandbox', ...(cfg.kind === 'ssh' ? ['network'] : [])] as CheckName[]) checks.push({ name, status: 'skip', detail: why });
    checks.push(...skippedCloneChecks(adapter, why));
  };
  const report = (latencyMs?: number): HostReport => ({ host: cfg.name, kind: cfg.kind, ok: checks.every((c) => c.status !== 'fail'), latencyMs, checks });
  const started = Date.now();
  try {
    const r = await host.exec(['true']);
    if (r.exitCode !== 0) throw new HostUnreachableError(`\`true\` exited ${r.exitCode}: ${r.stderr.trim()}`);
  } catch (error) {
    const e = error as HostKeyError & HostUnreachableError;
    if (error instanceof HostKeyError) {
      checks.push({ name: 'reachable', status: 'ok', detail: 'sshd answered' }, { name: 'host_key', status: 'fail', detail: e.message, fix: e.fix });
    } else {
      checks.push({ name: 'reachable', status: 'fail', detail: e.message, fix: e.fix });
      if (cfg.kind === 'ssh') checks.push({ name: 'host_key', status: 'skip', detail: 'not reachable' });
    }
    skipRest('not connected');
    if (!transport) await host.close?.();
    return report();
  }
  const latencyMs = Date.now() - started;
  checks.push({ name: 'reachable', status: 'ok', detail: cfg.kind === 'ssh' ? `${cfg.user}@${cfg.address}:${cfg.port} in ${latencyMs} ms` : 'this machine' });
  if (cfg.kind === 'ssh') checks.push({ name: 'host_key', status: 'ok', detail: `matches ${cfg.knownHosts ?? '~/.ssh/known_hosts'}` });
  try {
    const git = await host.exec(['git', '--version']);
    checks.push(git.exitCode === 0
      ? { name: 'git', status: 'ok', detail: git.stdout.trim() }
      : { name: 'git', status: 'fail', detail: `git is not on the PATH (exit ${git.exitCode})`, fix: `Install git on "${cfg.name}" (≥ 2.38).` });
    const { cli, credentials } = agentFacts(adapter);
    const found = await host.exec(['sh', '-c', 'command -v "$1"', 'oxi', cli]);
    checks.push(found.exitCode === 0
      ? { name: 'agent_cli', status: 'ok', detail: `${cli} at ${found.stdout.trim()}` }
      : { name: 'agent_cli', status: 'fail', detail: `${cli} is not on the PATH of a non-login shell`, fix: `Install ${cli} on "${cfg.name}", or link it into /usr/local/bin (ssh runs a non-login shell).` });
    if (!credentials) checks.push({ name: 'credentials', status: 'ok', detail: `the ${adapter.agents.worker.backend} backend needs none` });
    else {
      const have = await host.exec(['sh', '-c', 'for f; do [ -s "$HOME/$f" ] && { echo "$f"; exit 0; }; done; exit 1', 'oxi', ...credentials]);
      checks.push(have.exitCode === 0
        ? { name: 'credentials', status: 'ok', detail: `~/${have.stdout.trim()} present` }
        : { name: 'credentials', status: 'warn', detail: `none of ~/${credentials.join(', ~/')} exists`, fix: `Log in once on "${cfg.name}" (${cli} login) as the ssh user.` });
    }
    // Per-repository clones (`hosts[].repos`) are checked where each repository is listed.
    if (cfg.kind === 'ssh' && cfg.mainClone !== undefined) {
      const clone = await host.exec(['git', '-C', cfg.mainClone, 'remote', 'get-url', 'origin']);
      checks.push(clone.exitCode === 0
        ? { name: 'main_clone', status: 'ok', detail: `${cfg.mainClone} (origin ${clone.stdout.trim()})` }
        : { name: 'main_clone', status: 'fail', detail: `${cfg.mainClone} is not a clone with an origin remote: ${clone.stderr.trim()}`, fix: `On "${cfg.name}": git clone <your repository> ${cfg.mainClone}` });
    }
    // With `repos`: this host's clone of each repository (src/doctor/repo-clones.ts).
    checks.push(...(await repoCloneChecks(adapter, cfg, host)));
    // Probed on the host itself: the same bwrap the agents there would run under.
    const sandbox = await new HostSandbox(host, adapter.agents.sandbox, []).status();
    checks.push({ name: 'sandbox', ...sandboxResult(sandbox, adapter.agents.sandbox, cfg.name) });
    // The allowlist proxy runs in the engine: an SSH host's agents cannot reach it (docs/security.md).
    if (cfg.kind === 'ssh') checks.push({ name: 'network', ...networkVerdict(networkStatus(networkSettings(adapter.agents), false, 'its proxy runs in the engine, which an SSH host\'s sandbox cannot reach')) });
  } catch (error) {
    checks.push({ name: 'reachable', status: 'fail', detail: `the connection broke during the checks: ${(error as Error).message}` });
  } finally {
    if (!transport) await host.close?.();
  }
  return report(latencyMs);
}

/** Checks every host of the adapter, concurrently. */
export function checkHosts(adapter: Adapter): Promise<HostReport[]> {
  return Promise.all(adapter.hosts.map((h) => checkHost(adapter, h)));
}
