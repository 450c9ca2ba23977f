/**
 * Whether agents on this machine run sandboxed (`sandbox:<host>` for each local host), and what network they get
 * (`network:<host>`, agents.network). SSH hosts get the
 * same answer from their own checks (`host:<name>:sandbox`, src/doctor/hosts.ts), probed on the host.
 */
import { sandboxOf, engineMachine } from '../../actors/sandbox/sandbox.js';
import { networkSettings, networkStatus, networkVerdict } from '../../actors/network/policy.js';
import { sandboxLine, type SandboxStatus } from '../sandbox/port.js';
import type { SandboxSettings } from '../config/schema.js';
import type { CheckProvider, CheckResult } from './types.js';

/** One doctor result for a host's sandbox status: ok, a plain warning, or a failure when it is required. */
export function sandboxResult(status: SandboxStatus, settings: SandboxSettings, host: string): Pick<CheckResult, 'status' | 'detail' | 'fix'> {
  const detail = sandboxLine(status);
  if (status.available) return { status: 'ok', detail };
  const fix = settings.mode === 'none' ? 'Set agents.sandbox.mode to "auto" to confine agents (docs/security.md).' : `Install bubblewrap on "${host}" (apt-get install bubblewrap), or run oxi where user namespaces are allowed.`;
  if (settings.required) return { status: 'fail', detail: `${detail}; agents.sandbox.required is true, so no agent will start there`, fix };
  return { status: 'warn', detail, fix };
}

export const sandboxChecks: CheckProvider = {
  name: 'sandbox',
  needsAdapter: true,
  async check(ctx) {
    const adapter = ctx.adapter!;
    const results: CheckResult[] = [];
    for (const host of adapter.hosts) {
      if (host.kind !== 'local') continue;
      const status = await sandboxOf(adapter, engineMachine).status();
      const r = sandboxResult(status, adapter.agents.sandbox, host.name);
      results.push({ id: `sandbox:${host.name}`, ...r, detail: `${host.name}: ${r.detail}` });
      const net = await sandboxOf(adapter, engineMachine).networkMode();
      const v = networkVerdict(networkStatus(networkSettings(adapter.agents), net.supported, net.reason));
      results.push({ id: `network:${host.name}`, ...v, detail: `${host.name}: ${v.detail}` });
    }
    return results;
  },
};
