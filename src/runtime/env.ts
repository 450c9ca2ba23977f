import type { Adapter } from '../config/schema.js';

/**
 * The whitelisted environment of agent and check subprocesses: only the names the adapter
 * allows (never a forge token unless it is listed), plus the values it sets.
 */
export function agentEnv(adapter: Adapter, source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of adapter.agents.env.allow) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...adapter.agents.env.set };
}
