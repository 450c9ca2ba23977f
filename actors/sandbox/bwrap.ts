/**
 * The bubblewrap command line of a mount plan: new mount, PID, IPC and UTS namespaces (and network, unless
 * agents.network is "open"; with "allowlist" a bridge to the proxy runs beside the agent), its own /proc, /dev and /tmp, the plan's mounts in order, and the
 * root made read-only last, so nothing but the plan's writable binds can be written.
 */
import { BRIDGE_PORT, PROXY_MOUNT, proxyEnv, SANDBOX_INIT_WITH_BRIDGE } from '../network/bridge.js';
import type { MountPlan } from './mounts.js';

/**
 * PID 1 of the sandbox: runs the agent as its child and exits with it. When PID 1 exits the kernel kills
 * everything left in the namespace, so nothing the agent started outlives its session. (bwrap's own init
 * would wait for every last process; and the agent itself as PID 1 would ignore an engine's SIGTERM.)
 */
export const SANDBOX_INIT = '"$@" & wait $!';

export function bwrapArgv(plan: MountPlan, bwrap = 'bwrap'): string[] {
  const argv = [bwrap, '--unshare-pid', '--as-pid-1', '--unshare-ipc', '--unshare-uts'];
  // allowlist: no network of its own either; the proxy is reached through the bridge only.
  if (plan.network !== 'open') argv.push('--unshare-net');
  // Why: a waited run must not outlive the engine that waits for it; a detached worker is adopted after a restart instead.
  if (plan.dieWithParent) argv.push('--die-with-parent');
  argv.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  for (const m of plan.mounts) {
    switch (m.op) {
      case 'ro':
        argv.push(m.optional ? '--ro-bind-try' : '--ro-bind', m.src, m.dest);
        break;
      case 'rw':
        argv.push(m.optional ? '--bind-try' : '--bind', m.src, m.dest);
        break;
      case 'tmpfs':
        argv.push('--tmpfs', m.dest);
        break;
      case 'hide-file':
        argv.push('--ro-bind', '/dev/null', m.dest);
        break;
      case 'symlink':
        argv.push('--symlink', m.target, m.dest);
        break;
    }
  }
  if (plan.proxy) argv.push('--ro-bind', plan.proxy.dir, PROXY_MOUNT);
  argv.push('--remount-ro', '/', '--chdir', plan.chdir, '--', '/bin/sh', '-c');
  if (plan.proxy) argv.push(SANDBOX_INIT_WITH_BRIDGE, 'oxi-sandbox-init', plan.proxy.bridge.program, plan.proxy.bridge.script, `${PROXY_MOUNT}/${plan.proxy.socket}`, String(BRIDGE_PORT));
  else argv.push(SANDBOX_INIT, 'oxi-sandbox-init');
  // The agent's env is the whitelist: only PWD (set by bwrap) goes, and the proxy variables come in (NO_PROXY never).
  const unset = [...(plan.clearPwd ? ['-u', 'PWD'] : []), ...(plan.proxy ? ['-u', 'NO_PROXY', '-u', 'no_proxy'] : [])];
  if (unset.length || plan.proxy) argv.push('/usr/bin/env', ...unset, ...(plan.proxy ? proxyEnv() : []));
  argv.push(...plan.argv);
  return argv;
}
