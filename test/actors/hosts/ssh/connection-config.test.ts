import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../src/config/validate.js';
import { ConfigError } from '../../../../src/errors.js';
import type { SshHostConfig } from '../../../../src/config/schema.js';

const adapter = (connection?: Record<string, unknown>) =>
  validateConfig({
    name: 'tune',
    hosts: [{ name: 'far', kind: 'ssh', address: 'far.internal', user: 'oxi', mainClone: '/srv/clone', worktreesRoot: '/srv/work', ...(connection ? { connection } : {}) }],
  }, { configPath: join('/tmp', 'oxi.config.json') });

describe('hosts[].connection', () => {
  it('is optional; given in part, the rest takes the defaults', () => {
    expect((adapter().hosts[0] as SshHostConfig).connection).toBeUndefined();
    expect((adapter({ keepaliveIntervalMs: 300 }).hosts[0] as SshHostConfig).connection).toEqual({
      keepaliveIntervalMs: 300, keepaliveCountMax: 3, connectTimeoutMs: 15_000, commandTimeoutMs: 60_000, execTimeoutMs: 1_800_000,
    });
  });

  it('refuses a keepalive that could never detect anything, and unknown fields, naming the field', () => {
    expect(() => adapter({ keepaliveCountMax: 0 })).toThrow(ConfigError);
    expect(() => adapter({ keepaliveCountMax: 0 })).toThrow(/hosts\.0\.connection\.keepaliveCountMax/);
    expect(() => adapter({ keepaliveMs: 10 })).toThrow(/keepaliveMs/);
  });
});
