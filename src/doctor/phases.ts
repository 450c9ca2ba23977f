/**
 * Which variable reaches which phase of a task (docs/workspaces.md): the workspace setup, the agents, the checks.
 * One `env:<NAME>` line per variable the adapter names beyond the plain ones every phase gets (PATH, HOME, ...),
 * and a `workspace:setup` line for the setup itself. A secret-looking name an agent can read is a warning.
 */
import { phaseReach } from '../agents/phase-env.js';
import type { CheckProvider, CheckResult } from './types.js';

const PLAIN = new Set(['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'USER']);
const SECRETISH = /TOKEN|SECRET|KEY|PASSWORD|PASS|AUTH|CREDENTIAL/i;

export const phaseChecks: CheckProvider = {
  name: 'phases',
  needsAdapter: true,
  async check(ctx) {
    const adapter = ctx.adapter!;
    const results: CheckResult[] = [];
    const setup = adapter.workspace.setup;
    if (setup) {
      const key = setup.cacheKey?.length ? `cache key ${setup.cacheKey.join(', ')}` : 'no cache key: once per attempt';
      results.push({ id: 'workspace:setup', status: 'ok', detail: `setup ${JSON.stringify(setup.command)} runs before each worker's first session (${key}); ${adapter.workspace.files.length} file(s) copied first` });
    } else if (adapter.workspace.files.length) {
      results.push({ id: 'workspace:setup', status: 'ok', detail: `no setup command; ${adapter.workspace.files.length} file(s) copied into each workspace` });
    }
    for (const row of phaseReach(adapter)) {
      if (PLAIN.has(row.name)) continue;
      const where = row.phases.length === 1 ? `${row.phases[0]} only` : row.phases.join(', ');
      const source = row.set ? 'set in the adapter' : ctx.env[row.name] === undefined ? 'NOT set in this environment' : 'set in the environment';
      const detail = `${row.name} reaches ${where} (${source})`;
      if (row.phases.includes('agents') && SECRETISH.test(row.name) && !row.set) {
        results.push({ id: `env:${row.name}`, status: 'warn', detail: `${detail}: every agent can read it`, fix: `If ${row.name} is only needed to install dependencies, move it from agents.env.allow to workspace.setup.env.allow (docs/workspaces.md).` });
      } else if (!row.set && ctx.env[row.name] === undefined && row.phases.includes('setup')) {
        results.push({ id: `env:${row.name}`, status: 'warn', detail, fix: `Export ${row.name} in the daemon's environment, or drop it from workspace.setup.env.allow.` });
      } else {
        results.push({ id: `env:${row.name}`, status: 'ok', detail });
      }
    }
    return results;
  },
};
