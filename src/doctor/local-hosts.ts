/**
 * Local hosts: enough CPU and memory for the workers the adapter allows. SSH hosts are checked
 * by the SSH transport's own provider (see providers.ts); without it they are reported as
 * not checked rather than silently passed.
 */
import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';
import type { CheckProvider, CheckResult } from './types.js';

export const localHostChecks: CheckProvider = {
  name: 'hosts',
  needsAdapter: true,
  async check(ctx) {
    const results: CheckResult[] = [];
    for (const host of ctx.adapter!.hosts) {
      if (host.kind !== 'local') continue;
      const cpus = availableParallelism();
      const load5 = loadavg()[1];
      const freeMb = Math.round(freemem() / 1048576);
      const detail = `local: ${cpus} cpus, load ${load5.toFixed(1)}, ${freeMb} MB free of ${Math.round(totalmem() / 1048576)} MB; maxWorkers ${host.maxWorkers}`;
      if (host.maxWorkers > cpus)
        results.push({ id: `host:${host.name}`, status: 'warn', detail, fix: `maxWorkers (${host.maxWorkers}) exceeds the ${cpus} cpus: lower hosts.${host.name}.maxWorkers, or expect oxi to run fewer at once (it caps by load).` });
      else results.push({ id: `host:${host.name}`, status: 'ok', detail });
    }
    return results;
  },
};

/** Stand-in for SSH host checks until the SSH transport registers its provider in providers.ts. */
