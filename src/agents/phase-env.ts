/**
 * The environment of each phase of a task besides the agents' (src/runtime/env.ts): the workspace setup
 * and the checks each have their own allow list, so a secret named only in the setup's reaches the setup
 * and nothing else (docs/workspaces.md). A forge token reaches none of them, whatever a list says.
 */
import type { Adapter } from '../config/schema.js';
import { agentEnv, forgeTokenNames } from './env.js';

/** Package managers' cache locations, pointed into the setup's cache directory unless the adapter sets them. */
export const CACHE_ENV: Readonly<Record<string, string>> = {
  npm_config_cache: '{cache}/npm',
  YARN_CACHE_FOLDER: '{cache}/yarn',
  PIP_CACHE_DIR: '{cache}/pip',
  XDG_CACHE_HOME: '{cache}/xdg',
};

function whitelist(adapter: Adapter, allow: readonly string[], source: NodeJS.ProcessEnv): Record<string, string> {
  const forgeTokens = new Set(forgeTokenNames(adapter));
  const env: Record<string, string> = {};
  for (const name of allow) {
    if (forgeTokens.has(name)) continue;
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** The names of workspace.setup.env.allow that no agent gets: the setup's own secrets. */
export function setupOnlyNames(adapter: Adapter): string[] {
  const agents = new Set(adapter.agents.env.allow);
  return (adapter.workspace.setup?.env.allow ?? []).filter((n) => !agents.has(n));
}

/**
 * The setup's environment: its own allow list, the cache variables, then its own `set` (`{cache}` expanded).
 * `withhold`: the workspace holds an agent's work (the setup would run its code), so the setup-only names stay out.
 */
export function setupEnv(adapter: Adapter, cacheDir: string, source: NodeJS.ProcessEnv = process.env, options: { withhold?: boolean } = {}): Record<string, string> {
  const setup = adapter.workspace.setup;
  if (!setup) return {};
  const expand = (v: string) => v.split('{cache}').join(cacheDir);
  const own = new Set(options.withhold ? setupOnlyNames(adapter) : []);
  const env = whitelist(adapter, setup.env.allow.filter((n) => !own.has(n)), source);
  for (const [k, v] of Object.entries(CACHE_ENV)) env[k] = expand(v);
  for (const [k, v] of Object.entries(setup.env.set)) env[k] = expand(v);
  return env;
}

/** The checks' environment: their own allow list when the adapter gives one, else the agents'. */
export function checksEnv(adapter: Adapter, source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const own = adapter.checks.env;
  if (!own) return agentEnv(adapter, source);
  return { ...whitelist(adapter, own.allow, source), ...own.set };
}

export type Phase = 'setup' | 'agents' | 'checks';

/** Which phases each variable named in the adapter reaches (for `oxi doctor`); forge tokens reach none. */
export function phaseReach(adapter: Adapter): Array<{ name: string; phases: Phase[]; set: boolean }> {
  const forgeTokens = new Set(forgeTokenNames(adapter));
  const lists: Record<Phase, { allow: readonly string[]; set: Record<string, string> } | undefined> = {
    setup: adapter.workspace.setup?.env,
    agents: adapter.agents.env,
    checks: adapter.checks.env ?? adapter.agents.env,
  };
  const names = new Map<string, { phases: Phase[]; set: boolean }>();
  for (const phase of ['setup', 'agents', 'checks'] as const) {
    const list = lists[phase];
    if (!list) continue;
    for (const name of [...list.allow, ...Object.keys(list.set)]) {
      if (forgeTokens.has(name) && list.allow.includes(name) && !(name in list.set)) continue;
      const row = names.get(name) ?? { phases: [], set: false };
      if (!row.phases.includes(phase)) row.phases.push(phase);
      if (name in list.set) row.set = true;
      names.set(name, row);
    }
  }
  return [...names].map(([name, row]) => ({ name, ...row })).sort((a, b) => a.name.localeCompare(b.name));
}
