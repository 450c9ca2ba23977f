import { describe, expect, it } from 'vitest';
import { allows, defaultRules, effectiveMode, networkSettings, parseRule, rulesFor } from '../../../actors/network/policy.js';
import { validateConfig } from '../../../src/config/validate.js';

const adapterWith = (agents: Record<string, unknown>) => validateConfig({ name: 'p', agents }, { configPath: '/tmp/oxi-policy-test/oxi.config.json' });

describe('agents.network policy', () => {
  it('reads allow entries as host, host:port, [v6]:port, *.domain and objects', () => {
    expect(parseRule('Registry.NPMJS.org')).toEqual({ host: 'registry.npmjs.org' });
    expect(parseRule('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseRule('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(parseRule('::1')).toEqual({ host: '::1' });
    expect(parseRule({ host: 'api.example.com', methods: ['get'] })).toEqual({ host: 'api.example.com', methods: ['GET'] });
  });

  it('lets through a listed host on 443/80 only unless a port is named; wildcards match subdomains; methods limit', () => {
    const rules = [parseRule('api.anthropic.com'), parseRule('127.0.0.1:4000'), parseRule('*.npmjs.org'), parseRule({ host: 'git.example.com', methods: ['GET', 'CONNECT'] })];
    expect(allows(rules, { host: 'api.anthropic.com', port: 443, method: 'CONNECT' })).toBe(true);
    expect(allows(rules, { host: 'API.anthropic.com.', port: 80, method: 'POST' })).toBe(true);
    expect(allows(rules, { host: 'api.anthropic.com', port: 22, method: 'CONNECT' })).toBe(false);
    expect(allows(rules, { host: '127.0.0.1', port: 4000, method: 'POST' })).toBe(true);
    // The engine's own loopback services (dashboard) are other ports: refused.
    expect(allows(rules, { host: '127.0.0.1', port: 4001, method: 'GET' })).toBe(false);
    expect(allows(rules, { host: 'registry.npmjs.org', port: 443, method: 'CONNECT' })).toBe(true);
    expect(allows(rules, { host: 'npmjs.org', port: 443, method: 'CONNECT' })).toBe(false);
    expect(allows(rules, { host: 'evilnpmjs.org', port: 443, method: 'CONNECT' })).toBe(false);
    expect(allows(rules, { host: 'git.example.com', port: 80, method: 'GET' })).toBe(true);
    expect(allows(rules, { host: 'git.example.com', port: 80, method: 'POST' })).toBe(false);
    expect(allows(rules, { host: 'exfil.example.net', port: 443, method: 'CONNECT' })).toBe(false);
  });

  it('derives the model API from the agent env (base URL), the codex provider config, and the registry', () => {
    const codex = { config: ['model_provider="t"', 'model_providers.t={name="t",base_url="http://127.0.0.1:5151/v1",wire_api="responses"}'] };
    expect(defaultRules('claude', { ANTHROPIC_BASE_URL: 'http://127.0.0.1:7000' }, codex)).toEqual([{ host: '127.0.0.1', port: 7000 }, { host: 'console.anthropic.com' }, { host: 'registry.npmjs.org' }]);
    expect(defaultRules('claude', {}, codex)[0]).toEqual({ host: 'api.anthropic.com' });
    expect(defaultRules('codex', {}, codex)).toContainEqual({ host: '127.0.0.1', port: 5151 });
    expect(defaultRules('scripted', { npm_config_registry: 'https://npm.example.com/' }, codex)).toEqual([{ host: 'npm.example.com' }]);
  });

  it('config: the string form, the object form, the older agents.sandbox.network, and the default by sandbox support', () => {
    expect(networkSettings(adapterWith({}).agents)).toEqual({ mode: undefined, allow: [], setupAllow: [], defaults: true });
    expect(networkSettings(adapterWith({ network: 'none' }).agents).mode).toBe('none');
    expect(networkSettings(adapterWith({ sandbox: { network: 'none' } }).agents).mode).toBe('none');
    expect(networkSettings(adapterWith({ sandbox: { network: 'open' } }).agents).mode).toBe('open');
    const s = networkSettings(adapterWith({ network: { mode: 'allowlist', allow: ['github.com'], setupAllow: [{ host: 'pypi.org' }], defaults: false } }).agents);
    expect(s).toEqual({ mode: 'allowlist', allow: [{ host: 'github.com' }], setupAllow: [{ host: 'pypi.org' }], defaults: false });
    expect(rulesFor(s, 'worker', 'claude', {}, { config: [] })).toEqual([{ host: 'github.com' }]);
    // Setup may reach more than the agent.
    expect(rulesFor(s, 'setup', 'claude', {}, { config: [] })).toEqual([{ host: 'github.com' }, { host: 'pypi.org' }]);
    expect(effectiveMode({ ...s, mode: undefined }, true)).toBe('allowlist');
    expect(effectiveMode({ ...s, mode: undefined }, false)).toBe('open');
    expect(effectiveMode(s, false)).toBe('allowlist');
    expect(() => adapterWith({ network: 'closed' })).toThrow();
  });
});
