/**
 * oauthWatch's effect: each host's Claude credentials. Claude Code keeps its OAuth login in
 * `~/.claude/.credentials.json` (`claudeAiOauth.expiresAt`, ms since epoch); API-key auth
 * (ANTHROPIC_API_KEY in the agents' env) does not expire. Per host: ok → expiring (within
 * agents.oauthExpiringHours) → expired; an expired host is blocked in the dispatch pool.
 */
import type { CredentialsOutput } from '../../machines/effects.js';
import { agentEnv } from '../../src/agents/env.js';
import type { EffectDeps } from '../effects/deps.js';

export type HostCredentials = { host: string; state: CredentialsOutput['state']; detail: string; expiresAt?: number };

const RANK = { ok: 0, expiring: 1, expired: 2 } as const;

/** Reads the credentials file's expiry (exported for tests and `oxi doctor`-style checks). */
export function credentialState(text: string | undefined, now: number, thresholdMs: number): Omit<HostCredentials, 'host'> {
  if (text === undefined) return { state: 'expired', detail: 'no ~/.claude/.credentials.json and no ANTHROPIC_API_KEY: claude is not logged in' };
  let expiresAt: unknown;
  try {
    expiresAt = (JSON.parse(text) as { claudeAiOauth?: { expiresAt?: unknown } }).claudeAiOauth?.expiresAt;
  } catch {
    return { state: 'expired', detail: '~/.claude/.credentials.json is not valid JSON' };
  }
  if (typeof expiresAt !== 'number') return { state: 'expired', detail: '~/.claude/.credentials.json has no claudeAiOauth.expiresAt' };
  const iso = new Date(expiresAt).toISOString();
  if (expiresAt <= now) return { state: 'expired', detail: `OAuth login expired at ${iso}`, expiresAt };
  if (expiresAt - now <= thresholdMs) return { state: 'expiring', detail: `OAuth login expires at ${iso}`, expiresAt };
  return { state: 'ok', detail: `OAuth login valid until ${iso}`, expiresAt };
}

export async function readHostCredentials(deps: EffectDeps): Promise<HostCredentials[]> {
  const { adapter } = deps;
  const usesClaude = (['planner', 'worker', 'critic'] as const).some((r) => adapter.agents[r].backend === 'claude' || adapter.agents[r].fallbacks.some((f) => f.backend === 'claude'));
  if (!usesClaude) return [];
  const env = agentEnv(adapter);
  const now = deps.clock.now();
  const threshold = adapter.agents.oauthExpiringHours * 3_600_000;
  const out: HostCredentials[] = [];
  for (const [name, host] of deps.hosts) {
    if (env.ANTHROPIC_API_KEY || env.ANTHROPIC_AUTH_TOKEN) {
      out.push({ host: name, state: 'ok', detail: 'API-key auth (does not expire)' });
      continue;
    }
    // The HOME the agent will see: the whitelisted one locally, the login's on a remote host.
    const home = host.name === 'local' || adapter.hosts.find((h) => h.name === name)?.kind === 'local'
      ? env.HOME
      : (await host.exec(['printenv', 'HOME']).catch(() => undefined))?.stdout.trim();
    const text = home ? await host.readFile(`${home}/.claude/.credentials.json`) : undefined;
    out.push({ host: name, ...credentialState(text, now, threshold) });
  }
  return out;
}

/** The effect: worst state across hosts; expired hosts are blocked for dispatch, the others unblocked. */
export async function readCredentials(deps: EffectDeps): Promise<CredentialsOutput> {
  const hosts = await readHostCredentials(deps);
  for (const h of hosts) deps.pool.setBlocked(h.host, h.state === 'expired');
  if (hosts.length === 0) return { state: 'ok', detail: 'no backend that needs credentials' };
  const worst = hosts.reduce((a, b) => (RANK[b.state] > RANK[a.state] ? b : a));
  return { state: worst.state, detail: hosts.map((h) => `${h.host}: ${h.detail}`).join('; ') };
}

/**
 * oauthWatch re-enters `expiring`/`expired` at every check; the notification must go out once per
 * transition. This gate lets an `oauth` notification through only when its title differs from the
 * last one sent (a return to ok resets it).
 */
export function oauthNotifyGate() {
  let last: string | undefined;
  return {
    sawState(state: CredentialsOutput['state']) {
      if (state === 'ok') last = undefined;
    },
    shouldSend(message: { kind: string; title: string }): boolean {
      if (message.kind !== 'oauth') return true;
      if (message.title === last) return false;
      last = message.title;
      return true;
    },
  };
}
