/**
 * The SSH hosts' checks for `oxi doctor`: reachable, host key known, git and the agent CLI present,
 * credentials, the clone usable — one result per check, ids `host:<name>:<check>`. The per-host
 * reports (with connection latency) are kept on the context for `--json`.
 */
import { checkHosts, type HostReport } from './hosts.js';
import type { CheckProvider, CheckResult, DoctorContext } from './types.js';

export const HOST_REPORTS = Symbol('hostReports');

export function hostReportsOf(ctx: DoctorContext): HostReport[] {
  return (ctx as unknown as Record<symbol, HostReport[]>)[HOST_REPORTS] ?? [];
}

export const sshHostChecks: CheckProvider = {
  name: 'ssh-hosts',
  needsAdapter: true,
  async check(ctx) {
    const reports = await checkHosts(ctx.adapter!);
    (ctx as unknown as Record<symbol, HostReport[]>)[HOST_REPORTS] = reports;
    const results: CheckResult[] = [];
    for (const r of reports) {
      if (r.kind !== 'ssh') continue; // local hosts have their own provider
      for (const c of r.checks) {
        results.push({ id: `host:${r.host}:${c.name}`, status: c.status, detail: `${r.host} (ssh): ${c.detail}`, fix: c.fix });
      }
    }
    return results;
  },
};
