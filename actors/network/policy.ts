/**
 * The agent's network policy (agents.network), pure: which mode a launch gets, and which hosts, ports and
 * methods the proxy lets through. The defaults follow the backend: its model API (from the base URL in the
 * agent's env or the backend's config) and the package registry.
 */
import type { Adapter, NetworkConfig } from '../../src/config/schema.js';

export type NetworkMode = 'open' | 'allowlist' | 'none';

export interface AllowRule {
  /** Lower-case host name or IP literal; `*.domain` matches every subdomain (not the domain itself). */
  host: string;
  /** undefined: ports 443 and 80. */
  port?: number;
  /** Upper-case HTTP methods; undefined: all. An HTTPS tunnel counts as `CONNECT`. */
  methods?: string[];
}

export interface NetworkSettings {
  /** undefined: the default (allowlist where the sandbox supports it, else open). */
  mode?: NetworkMode;
  allow: AllowRule[];
  setupAllow: AllowRule[];
  defaults: boolean;
}

type Entry = string | { host: string; port?: number; methods?: string[] };

export function parseRule(entry: Entry): AllowRule {
  if (typeof entry !== 'string') return { host: entry.host.toLowerCase(), ...(entry.port ? { port: entry.port } : {}), ...(entry.methods ? { methods: entry.methods.map((m) => m.toUpperCase()) } : {}) };
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracket) return { host: bracket[1].toLowerCase(), ...(bracket[2] ? { port: Number(bracket[2]) } : {}) };
  const at = entry.lastIndexOf(':');
  // Why: an IPv6 literal without brackets has several colons and no port.
  if (at > 0 && entry.indexOf(':') === at && /^\d+$/.test(entry.slice(at + 1))) return { host: entry.slice(0, at).toLowerCase(), port: Number(entry.slice(at + 1)) };
  return { host: entry.toLowerCase() };
}

/** agents.network in one shape; the older agents.sandbox.network is read when agents.network is not set. */
export function networkSettings(agents: Pick<Adapter['agents'], 'network' | 'sandbox'>): NetworkSettings {
  const cfg: NetworkConfig = agents.network;
  const legacy = agents.sandbox.network;
  if (cfg === undefined || typeof cfg === 'string') return { mode: cfg ?? legacy, allow: [], setupAllow: [], defaults: true };
  return { mode: cfg.mode ?? legacy, allow: cfg.allow.map(parseRule), setupAllow: cfg.setupAllow.map(parseRule), defaults: cfg.defaults };
}

/** The mode a launch gets: the configured one, or by default allowlist where the proxy can be run for it. */
export function effectiveMode(settings: NetworkSettings, proxySupported: boolean): NetworkMode {
  return settings.mode ?? (proxySupported ? 'allowlist' : 'open');
}

/** The host (and port, if not the scheme's) of a URL, as a rule; undefined when it does not parse. */
export function ruleOfUrl(url: string | undefined): AllowRule | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return u.port ? { host, port: Number(u.port) } : { host };
  } catch {
    return undefined;
  }
}

export const REGISTRY_HOST = 'registry.npmjs.org';

/** The hosts a backend needs by default: its model API (and sign-in), and the package registry. */
export function defaultRules(backend: string, env: Record<string, string>, codex: Pick<Adapter['agents']['codex'], 'config'>): AllowRule[] {
  const rules: AllowRule[] = [];
  if (backend === 'claude') {
    rules.push(ruleOfUrl(env.ANTHROPIC_BASE_URL) ?? { host: 'api.anthropic.com' });
    // OAuth sign-ins refresh their token there.
    rules.push({ host: 'console.anthropic.com' });
  } else if (backend === 'codex') {
    rules.push(ruleOfUrl(env.OPENAI_BASE_URL) ?? { host: 'api.openai.com' });
    // A model provider of the codex config (`-c model_providers.x={…base_url="…"…}`) is the model API too.
    for (const c of codex.config) for (const m of c.matchAll(/base_url\s*=\s*"([^"]+)"/g)) {
      const rule = ruleOfUrl(m[1]);
      if (rule) rules.push(rule);
    }
    rules.push({ host: 'auth.openai.com' });
  }
  rules.push(ruleOfUrl(env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY) ?? { host: REGISTRY_HOST });
  return rules;
}

/** The rules of one launch: defaults (unless switched off), the operator's list, and for setup the wider list. */
export function rulesFor(settings: NetworkSettings, role: string, backend: string, env: Record<string, string>, codex: Pick<Adapter['agents']['codex'], 'config'>): AllowRule[] {
  return [...(settings.defaults ? defaultRules(backend, env, codex) : []), ...settings.allow, ...(role === 'setup' ? settings.setupAllow : [])];
}

const hostMatches = (pattern: string, host: string) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : pattern === host);

/** Whether a request may pass: the host and port match a rule whose methods (if any) include the method. */
export function allows(rules: readonly AllowRule[], request: { host: string; port: number; method: string }): boolean {
  const host = request.host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  const method = request.method.toUpperCase();
  return rules.some((r) => hostMatches(r.host, host) && (r.port === undefined ? request.port === 443 || request.port === 80 : r.port === request.port) && (!r.methods || r.methods.includes(method)));
}

/** What status and doctor say about a host's agent network. */
export interface NetworkStatus {
  mode: NetworkMode;
  /** Set by agents.network (or the older agents.sandbox.network), not the default. */
  configured: boolean;
  /** Whether the allowlist can be enforced there (a local host with bubblewrap). */
  supported: boolean;
  reason?: string;
}

export function networkStatus(settings: NetworkSettings, supported: boolean, reason?: string): NetworkStatus {
  return { mode: effectiveMode(settings, supported), configured: settings.mode !== undefined, supported, ...(supported ? {} : { reason: reason ?? 'the allowlist needs a local host with bubblewrap' }) };
}

/** One plain line, and how serious it is: the default falling back to an open network is a warning; an allowlist that cannot be enforced refuses agents. */
export function networkVerdict(s: NetworkStatus): { status: 'ok' | 'warn' | 'fail'; detail: string; fix?: string } {
  if (s.mode === 'allowlist' && !s.supported) return { status: 'fail', detail: `agents.network is "allowlist" but ${s.reason}: no agent will start there`, fix: 'Install bubblewrap and run agents on a local host, or set agents.network to "open" or "none".' };
  if (s.mode === 'allowlist') return { status: 'ok', detail: `agents reach only the allowed hosts, through oxi's proxy (agents.network "allowlist"${s.configured ? '' : ', the default'}; refusals are recorded as network.denied)` };
  if (s.mode === 'none') return { status: 'ok', detail: 'agents have no network at all (agents.network "none")' };
  if (s.configured) return { status: 'ok', detail: 'agents\' network is open (agents.network "open")' };
  return { status: 'warn', detail: `agents' network is open: ${s.reason}`, fix: 'Install bubblewrap (apt-get install bubblewrap) so agents get the default allowlist, or set agents.network to "open" to accept it (docs/security.md).' };
}
