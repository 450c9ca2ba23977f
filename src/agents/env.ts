import type { Adapter } from '../config/schema.js';

/**
 * The whitelisted environment of agent and check subprocesses: only the names the adapter
 * allows (never a forge token unless it is listed), plus the values it sets.
 */
export function agentEnv(adapter: Adapter, source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  const forgeTokens = new Set(forgeTokenNames(adapter));
  for (const name of adapter.agents.env.allow) {
    // The forge token never reaches an agent, whatever the allow list says (contract 3.7).
    if (forgeTokens.has(name)) continue;
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...adapter.agents.env.set };
}

/** The variables a forge token may be read from: the adapter's tokenEnv, then GH_TOKEN, then GITHUB_TOKEN. */
export function forgeTokenNames(adapter: Adapter): string[] {
  // Every repository's forge token (repos[].forge), not only the first one's.
  const named = [adapter.repo.forge, ...(adapter.repos ?? []).map((r) => r.repo.forge)].flatMap((f) => (f.kind === 'github' ? [f.tokenEnv] : []));
  return [...new Set([...named, 'GH_TOKEN', 'GITHUB_TOKEN'])];
}

/**
 * The daemon drops the forge token from its own environment once the forge holds it, so no child it spawns
 * (git, checks, an agent started without a whitelist) can inherit it.
 */
export function forgetForgeToken(adapter: Adapter, env: NodeJS.ProcessEnv = process.env): void {
  for (const name of forgeTokenNames(adapter)) delete env[name];
}
