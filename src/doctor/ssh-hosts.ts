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
      // Local hosts have their own provider; of their checks only each repository's clone (`repos`) is reported here.
      const shown = r.kind === 'ssh' ? r.checks : r.checks.filter((c) => c.name.startsWith('clone:'));
      for (const c of shown) {
        results.push({ id: `host:${r.host}:${c.name}`, status: c.status, detail: `${r.host} (${r.kind}): ${c.detail}`, fix: c.fix });
      }
    }
    return results;
  },
};
