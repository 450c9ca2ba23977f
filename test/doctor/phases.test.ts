/**
 * `oxi doctor` says which variable reaches which phase: a setup-only secret reaches the setup only, a token an
 * agent can read is a warning, and the forge token reaches no phase whatever a list says.
 */
import { describe, expect, it } from 'vitest';
import { phaseChecks } from '../../src/doctor/phases.js';
import { doctorContext } from '../../src/doctor/run.js';
import { validateConfig } from '../../src/config/validate.js';
import { checksEnv, setupEnv } from '../../src/agents/phase-env.js';
import { agentEnv } from '../../src/agents/env.js';

const adapter = validateConfig(
  {
    name: 'phases',
    workspace: { setup: { command: ['npm', 'ci'], cacheKey: ['package-lock.json'], env: { allow: ['PATH', 'HOME', 'NPM_TOKEN', 'GITHUB_TOKEN'], set: { CARGO_HOME: '{cache}/cargo' } } } },
    agents: { env: { allow: ['PATH', 'HOME', 'SENTRY_AUTH_TOKEN'] } },
    checks: { env: { allow: ['PATH', 'DATABASE_URL'] } },
  },
  { configPath: '/proj/oxi.config.json' },
);
const source = { PATH: '/usr/bin', HOME: '/home/u', NPM_TOKEN: 'npm_secret', GITHUB_TOKEN: 'ghp_x', SENTRY_AUTH_TOKEN: 's', DATABASE_URL: 'postgres://db' };

describe('secrets by phase', () => {
  it('each phase gets its own list; the forge token reaches none', () => {
    expect(setupEnv(adapter, '/cache', source)).toEqual({ PATH: '/usr/bin', HOME: '/home/u', NPM_TOKEN: 'npm_secret', npm_config_cache: '/cache/npm', YARN_CACHE_FOLDER: '/cache/yarn', PIP_CACHE_DIR: '/cache/pip', XDG_CACHE_HOME: '/cache/xdg', CARGO_HOME: '/cache/cargo' });
    expect(agentEnv(adapter, source)).toEqual({ PATH: '/usr/bin', HOME: '/home/u', SENTRY_AUTH_TOKEN: 's' });
    expect(checksEnv(adapter, source)).toEqual({ PATH: '/usr/bin', DATABASE_URL: 'postgres://db' });
  });

  it('oxi doctor prints which secret reaches which phase', async () => {
    const ctx = { ...doctorContext({ cwd: '/proj', env: source }), adapter };
    const byId = Object.fromEntries((await phaseChecks.check(ctx)).map((r) => [r.id, r]));
    expect(byId['workspace:setup']).toMatchObject({ status: 'ok' });
    expect(byId['env:NPM_TOKEN']).toMatchObject({ status: 'ok', detail: 'NPM_TOKEN reaches setup only (set in the environment)' });
    expect(byId['env:DATABASE_URL']).toMatchObject({ status: 'ok', detail: 'DATABASE_URL reaches checks only (set in the environment)' });
    expect(byId['env:SENTRY_AUTH_TOKEN']).toMatchObject({ status: 'warn' });
    expect(byId['env:SENTRY_AUTH_TOKEN'].fix).toContain('workspace.setup.env.allow');
    expect(byId['env:CARGO_HOME']).toMatchObject({ status: 'ok', detail: 'CARGO_HOME reaches setup only (set in the adapter)' });
    expect(byId['env:GITHUB_TOKEN']).toBeUndefined();
  });
});
