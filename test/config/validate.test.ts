import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineAdapter } from '../../src/config/define.js';
import { describeAdapterSchema } from '../../src/config/describe.js';
import type { Adapter, AdapterInput } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/validate.js';
import { ConfigError } from '../../src/errors.js';

const configPath = '/proj/oxi.config.ts';
const validate = (raw: unknown) => validateConfig(raw, { configPath });

function errorOf(raw: unknown): ConfigError {
  try {
    validate(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected validateConfig to throw');
}

describe('validateConfig: defaults', () => {
  it('fills in every default and resolves paths against the config directory', () => {
    const expected: Adapter = {
      name: 'widgets',
      repo: { path: '/proj', mainBranch: 'main', forge: { kind: 'local' } },
      roadmap: '/proj/ROADMAP.md',
      roadmapSource: { source: 'markdown', path: '/proj/ROADMAP.md' },
      branches: { prefix: 'oxi/' },
      sessionTag: 'default',
      paths: {
        stateDir: '/proj/.oxi',
        db: '/proj/.oxi/oxi.db',
        logs: '/proj/.oxi/logs',
        worktreesRoot: '/proj/.oxi/worktrees',
      },
      hosts: [{ name: 'local', kind: 'local', maxWorkers: 2 }],
      planTier: { name: 'default', maxWorkers: 4 },
      budget: { perTaskUsd: 2, dailySoftUsd: 20, dailyHardUsd: 50 },
      policy: {
        autoMerge: true,
        dirtyTree: 'files_touched_only',
        maxAttempts: 3,
        maxFixAttempts: 2,
        maxPrFailures: 8,
        scope: { allowed: [''], blocked: ['.env', 'secrets/'], sensitive: ['.github/'], protected: [] },
        onClosedPr: 'abandon',
      },
      checks: { command: ['npm', 'test'], timeoutMs: 600_000 },
      workspace: { files: [] },
      agents: {
        planner: { backend: 'scripted', fallbacks: [] },
        worker: { backend: 'scripted', fallbacks: [] },
        critic: { backend: 'scripted', fallbacks: [] },
        scripted: {},
        env: { allow: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'USER'], set: {} },
        timeouts: { wallMinutes: 60, stallMinutes: 10 },
        maxTurns: 50,
        claude: {
          command: ['claude'],
          permissionMode: 'acceptEdits',
          allowedTools: ['Read', 'Write', 'Edit', 'Glob', 'Grep', 'Bash(git *)', 'Bash(npm *)', 'Bash(node *)'],
          extraArgs: [],
        },
        codex: { command: ['codex'], sandbox: 'workspace-write', approvalPolicy: 'never', config: [], sessionWaitMs: 3000 },
        acp: { command: ['gemini', '--experimental-acp'], writeScope: 'workspace' },
        prompts: {},
        sandbox: { mode: 'auto', required: false, writable: [] },
        plannerRetries: 1,
        oauthExpiringHours: 24,
      },
      notifications: [{ kind: 'log' }],
      memory: { kind: 'none' },
      engine: {
        maxLiveTasks: 20,
        seedIntervalMs: 30_000,
        reaperIntervalMs: 30_000,
        prWatchIntervalMs: 30_000,
        hostProbeIntervalMs: 15_000,
        stallMs: 600_000,
        deadmanMs: 1_800_000,
        backoffBaseMs: 30_000,
        backoffMaxMs: 1_800_000,
        drainTimeoutMs: 30_000,
        janitor: { keepMs: 86_400_000, logsKeepMs: 1_209_600_000 },
        retention: { ledgerDays: 30, terminalSnapshotDays: 7, intervalMs: 3_600_000 },
        restartIntensity: { maxRestarts: 5, periodMs: 60_000 },
        dashboard: { port: 8765, bind: '127.0.0.1' },
      },
    };
    expect(validate({ name: 'widgets' })).toEqual(expected);
  });

  it('fills defaults inside partially given objects and union variants', () => {
    const a = validate({
      name: 'w',
      repo: { forge: { kind: 'github', owner: 'acme', name: 'widgets' } },
      hosts: [{ name: 'b1', kind: 'ssh', address: 'b1', user: 'oxi', mainClone: '/srv/w', worktreesRoot: '/srv/wt' }],
      budget: { perTaskUsd: 1 },
      agents: { worker: { backend: 'claude', model: 'opus' } },
      engine: { dashboard: { port: 0 } },
    });
    expect(a.repo.forge).toEqual({ kind: 'github', owner: 'acme', name: 'widgets', tokenEnv: 'GITHUB_TOKEN' });
    expect(a.hosts[0]).toMatchObject({ port: 22, maxWorkers: 2 });
    expect(a.budget).toEqual({ perTaskUsd: 1, dailySoftUsd: 20, dailyHardUsd: 50 });
    expect(a.agents.worker).toEqual({ backend: 'claude', model: 'opus', fallbacks: [] });
    expect(a.agents.planner).toEqual({ backend: 'scripted', fallbacks: [] });
    expect(a.engine.dashboard).toEqual({ port: 0, bind: '127.0.0.1' });
  });

  it('does not mutate its input', () => {
    const raw = { name: 'w', paths: { stateDir: 'state' } };
    validate(raw);
    expect(raw).toEqual({ name: 'w', paths: { stateDir: 'state' } });
  });
});

describe('validateConfig: engine.maxLiveTasks', () => {
  const hosts = (n: number, slots: number) => Array.from({ length: n }, (_, i) => ({ name: `h${i}`, kind: 'local', maxWorkers: slots }));
  it('defaults to one live task per host slot: 50 hosts × 8 slots → 400', () => {
    expect(validate({ name: 'w', hosts: hosts(50, 8), planTier: { maxWorkers: 400 } }).engine.maxLiveTasks).toBe(400);
  });
  it('never defaults under 20, so a small setup keeps tasks in review alive beside its workers', () => {
    expect(validate({ name: 'w' }).engine.maxLiveTasks).toBe(20);
    expect(validate({ name: 'w', hosts: hosts(3, 4) }).engine.maxLiveTasks).toBe(20);
  });
  it('keeps an explicit setting, lower or higher than the default', () => {
    expect(validate({ name: 'w', hosts: hosts(50, 8), engine: { maxLiveTasks: 12 } }).engine.maxLiveTasks).toBe(12);
    expect(validate({ name: 'w', engine: { maxLiveTasks: 1000 } }).engine.maxLiveTasks).toBe(1000);
  });
});

describe('validateConfig: paths', () => {
  it('resolves local paths against the config directory, leaves remote paths alone', () => {
    const a = validateConfig(
      {
        name: 'w',
        repo: { path: '../repo' },
        roadmap: 'docs/ROADMAP.md',
        paths: { stateDir: 'state', logs: '/var/log/oxi' },
        agents: { scripted: { script: 'fixtures/script.json' } },
        memory: { kind: 'file', dir: 'memory' },
        hosts: [
          {
            name: 'b1',
            kind: 'ssh',
            address: 'b1',
            user: 'oxi',
            identityFile: '~/.ssh/id_ed25519',
            knownHosts: 'ssh/known_hosts',
            mainClone: '/srv/w',
            worktreesRoot: '/srv/wt',
          },
        ],
      },
      { configPath: '/home/me/proj/config/oxi.config.ts' },
    );
    expect(a.repo.path).toBe('/home/me/proj/repo');
    expect(a.roadmap).toBe('/home/me/proj/config/docs/ROADMAP.md');
    expect(a.paths).toEqual({
      stateDir: '/home/me/proj/config/state',
      db: '/home/me/proj/config/state/oxi.db',
      logs: '/var/log/oxi',
      worktreesRoot: '/home/me/proj/config/state/worktrees',
    });
    expect(a.agents.scripted.script).toBe('/home/me/proj/config/fixtures/script.json');
    expect(a.memory).toEqual({ kind: 'file', dir: '/home/me/proj/config/memory' });
    expect(a.hosts[0]).toMatchObject({
      identityFile: join(homedir(), '.ssh/id_ed25519'),
      knownHosts: '/home/me/proj/config/ssh/known_hosts',
      mainClone: '/srv/w',
      worktreesRoot: '/srv/wt',
    });
  });

  it('resolves an explicit db path against the config directory, not stateDir', () => {
    expect(validate({ name: 'w', paths: { stateDir: 's', db: 'data/x.db' } }).paths.db).toBe('/proj/data/x.db');
  });
});

describe('validateConfig: errors', () => {
  it('reports a missing required field with its path, expectation and what came', () => {
    const e = errorOf({});
    expect(e.message).toContain('/proj/oxi.config.ts');
    expect(e.message).toContain('- name: expected a string (required), got nothing (the field is missing)');
    expect(e.fix).toContain('name: this field is required');
  });

  it('agents.sandbox: a required sandbox that is switched off, an unknown mode, a relative writable path', () => {
    const e = errorOf({ name: 'w', agents: { sandbox: { mode: 'none', required: true } } });
    expect(e.message).toContain('- agents.sandbox.required: expected false while agents.sandbox.mode is "none"');
    const mode = errorOf({ name: 'w', agents: { sandbox: { mode: 'firejail', writable: ['npm-cache'] } } });
    expect(mode.message).toMatch(/- agents\.sandbox\.mode: expected one of .*"auto".*"bubblewrap".*"none"/);
    expect(mode.message).toContain('- agents.sandbox.writable.0: expected an absolute path, or one starting with ~/');
  });

  it('reports a wrong type, with the value it got', () => {
    const e = errorOf({ name: 'w', policy: { maxAttempts: '3', autoMerge: 'yes' }, checks: { command: 'npm test' } });
    expect(e.message).toContain('- policy.maxAttempts: expected an integer, got "3"');
    expect(e.message).toContain('- policy.autoMerge: expected true or false, got "yes"');
    expect(e.message).toContain('- checks.command: expected an array, got "npm test"');
    expect(e.fix).toContain('policy.maxAttempts: write 3 without quotes');
    expect(e.fix).toContain('checks.command: use an array, e.g. ["npm","test"]');
  });

  it('reports unknown keys with a did-you-mean suggestion, at any depth', () => {
    const e = errorOf({ name: 'w', polcy: {}, engine: { dashbord: {} }, zzzzzz: 1 });
    expect(e.message).toMatch(/- polcy: expected a known key \(name, repo, .*\), got unknown key "polcy"/);
    expect(e.message).toMatch(/- engine\.dashbord: expected a known key \(.*dashboard.*\), got unknown key "dashbord"/);
    expect(e.fix).toContain('- polcy: did you mean "policy"?');
    expect(e.fix).toContain('- engine.dashbord: did you mean "dashboard"?');
    expect(e.fix).toContain('- zzzzzz: remove it');
  });

  it('lists the known keys of the matching union variant', () => {
    const e = errorOf({ name: 'w', repo: { forge: { kind: 'github', owner: 'a', name: 'b', tokenenv: 'X' } } });
    expect(e.message).toContain('- repo.forge.tokenenv: expected a known key (kind, owner, name, tokenEnv, apiUrl, remote)');
    expect(e.fix).toContain('did you mean "tokenEnv"?');
  });

  it('reports a bad enum value with the allowed values', () => {
    const e = errorOf({ name: 'w', policy: { dirtyTree: 'stirct' } });
    expect(e.message).toContain(
      '- policy.dirtyTree: expected one of "files_touched_only" | "strict" | "permissive", got "stirct"',
    );
    expect(e.fix).toContain('did you mean "strict"? (use one of: files_touched_only, strict, permissive)');
  });

  it('reports a bad or missing union tag with the allowed kinds', () => {
    const e = errorOf({ name: 'w', memory: { kind: 'redis' }, notifications: [{ webhookEnv: 'X' }] });
    expect(e.message).toContain('- memory.kind: expected one of "none" | "file", got "redis"');
    expect(e.message).toContain(
      '- notifications.0.kind: expected one of "log" | "stderr" | "slack" | "webhook", got nothing (the field is missing)',
    );
  });

  it('reports soft > hard budget, naming the limit', () => {
    const e = errorOf({ name: 'w', budget: { dailySoftUsd: 60, perTaskUsd: 70 } });
    expect(e.message).toContain('- budget.dailySoftUsd: expected a number <= budget.dailyHardUsd (50), got 60');
    expect(e.message).toContain('- budget.perTaskUsd: expected a number <= budget.dailyHardUsd (50), got 70');
    // The offending value may be a default the user never wrote.
    expect(errorOf({ name: 'w', budget: { dailyHardUsd: 10 } }).message).toContain(
      '- budget.dailySoftUsd: expected a number <= budget.dailyHardUsd (10), got 20 (the default)',
    );
  });

  it('reports duplicate host names', () => {
    const e = errorOf({
      name: 'w',
      hosts: [
        { name: 'box', kind: 'local' },
        { name: 'box', kind: 'ssh', address: 'a', user: 'u', mainClone: '/m', worktreesRoot: '/w' },
      ],
    });
    expect(e.message).toContain('- hosts.1.name: expected a unique host name ("box" is already used by hosts.0), got "box"');
  });

  it('reports bounds, formats and remote paths', () => {
    const e = errorOf({
      name: 'My Project',
      hosts: [{ name: 'b', kind: 'ssh', address: 'a', user: 'u', port: 70000, mainClone: 'srv/m', worktreesRoot: '/w' }],
      engine: { maxLiveTasks: 0 },
      checks: { command: [] },
      budget: { perTaskUsd: 0 },
    });
    expect(e.message).toContain('- name: expected a name matching /^[a-z0-9][a-z0-9-]*$/');
    expect(e.message).toContain('got "My Project"');
    expect(e.message).toContain('- hosts.0.port: expected an integer <= 65535, got 70000');
    expect(e.message).toContain('- hosts.0.mainClone: expected an absolute path on the remote host (starting with /), got "srv/m"');
    expect(e.message).toContain('- engine.maxLiveTasks: expected an integer >= 1, got 0');
    expect(e.message).toContain('- checks.command: expected a non-empty array, got []');
    expect(e.message).toContain('- budget.perTaskUsd: expected a number > 0, got 0');
  });

  it('rejects secrets where an env var name belongs', () => {
    const e = errorOf({ name: 'w', repo: { forge: { kind: 'github', owner: 'a', name: 'b', tokenEnv: 'ghp_abcdef123' } } });
    expect(e.message).toContain('- repo.forge.tokenEnv: expected the name of an environment variable, not a secret token');
    const set = errorOf({ name: 'w', agents: { env: { set: { 'not-a-var': '1' } } } });
    expect(set.message).toContain('- agents.env.set.not-a-var: expected a key that is the name of an environment variable');
  });

  it('throws one error listing every problem, and truncates long values', () => {
    const e = errorOf({ name: 'w', sessionTag: 'A B', roadmap: 'x'.repeat(200), planTier: { maxWorkers: -1 }, memory: 3 });
    expect(e.message).toMatch(/\(3 problems\)/);
    expect(e.message.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(3);
    expect(e.message).toContain('- sessionTag: expected a tag matching /^[a-z0-9-]+$/');
    expect(e.message).toContain('- memory: expected an object, got 3');
    expect(validate({ name: 'w', roadmap: 'x'.repeat(200) }).roadmap).toBe(`/proj/${'x'.repeat(200)}`);
    const long = errorOf({ name: 'w', repo: { mainBranch: { a: 'y'.repeat(200) } } });
    expect(long.message).toMatch(/- repo\.mainBranch: expected a string, got \{"a":"y+…$/m);
  });

  it('explains a config that is not an object', () => {
    const e = errorOf(undefined);
    expect(e.message).toContain('- (root): expected an object, got undefined');
    expect(e.fix).toContain('export default defineAdapter');
  });
});

describe('types', () => {
  it('Adapter is fully resolved, AdapterInput is what users write', () => {
    expectTypeOf<Adapter['paths']['db']>().toEqualTypeOf<string>();
    expectTypeOf<Adapter['engine']['dashboard']['port']>().toEqualTypeOf<number>();
    expectTypeOf<Adapter['engine']['dashboard']['tokenEnv']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Adapter['policy']['dirtyTree']>().toEqualTypeOf<'files_touched_only' | 'strict' | 'permissive'>();
    expectTypeOf<Adapter['agents']['worker']['fallbacks']>().toEqualTypeOf<
      { backend: 'scripted' | 'claude' | 'codex' | 'acp'; model?: string | undefined }[]
    >();
    expectTypeOf<Extract<Adapter['hosts'][number], { kind: 'ssh' }>['port']>().toEqualTypeOf<number>();
    expectTypeOf<AdapterInput['name']>().toEqualTypeOf<string>();
    expectTypeOf<AdapterInput['budget']>().toEqualTypeOf<
      { perTaskUsd?: number; dailySoftUsd?: number; dailyHardUsd?: number } | undefined
    >();
  });
});

describe('defineAdapter', () => {
  it('is the identity', () => {
    const config = { name: 'w', budget: { perTaskUsd: 1 } };
    expect(defineAdapter(config)).toBe(config);
  });
});

describe('docs/adapter.md', () => {
  const doc = readFileSync(new URL('../../docs/adapter.md', import.meta.url), 'utf8');

  it('contains the field reference generated from the schema (run `npx jiti src/config/write-docs.ts`)', () => {
    expect(doc).toContain(describeAdapterSchema());
  });

  it('documents every field', () => {
    const rows = describeAdapterSchema().split('\n').slice(2);
    expect(rows.length).toBeGreaterThan(90);
    for (const row of rows) {
      const description = row.split(' | ').at(-1)!.replace(/ \|$/, '').replace(/^\(only with [^)]*\) /, '');
      expect(description.trim(), row).not.toBe('');
    }
    for (const key of ['name', 'repo.forge.tokenEnv', 'hosts[].mainClone', 'engine.dashboard.tokenEnv', 'agents.env.allow'])
      expect(doc).toContain(`| \`${key}\` |`);
  });
});

describe('validateConfig: inference and triage', () => {
  it('absent: nothing added to the adapter (every existing config reads as before)', () => {
    const a = validate({ name: 'widgets' });
    expect('inference' in a).toBe(false);
    expect('triage' in a).toBe(false);
  });

  it('fills the gateway defaults and resolves its rate card against the config directory', () => {
    const a = validate({ name: 'widgets', inference: { baseUrl: 'https://openrouter.ai/api/v1', apiKeyEnv: 'OPENROUTER_API_KEY', models: { triage: 'x-ai/grok-4-fast' }, rateCard: 'rates.json' }, triage: { enabled: true } });
    expect(a.inference).toEqual({ baseUrl: 'https://openrouter.ai/api/v1', apiKeyEnv: 'OPENROUTER_API_KEY', models: { triage: 'x-ai/grok-4-fast' }, timeoutMs: 30_000, rateCard: '/proj/rates.json' });
    expect(a.triage).toEqual({ enabled: true, maxAgeHours: 24 });
    expect(validate({ name: 'widgets', triage: {} }).triage).toEqual({ enabled: false, maxAgeHours: 24 });
  });

  it('triage enabled without a triage model, a key pasted where its variable name belongs, a bad URL', () => {
    expect(errorOf({ name: 'widgets', triage: { enabled: true } }).message).toMatch(/triage\.enabled[\s\S]*inference\.models\.triage/);
    expect(errorOf({ name: 'widgets', inference: { baseUrl: 'https://x.test/v1', apiKeyEnv: 'sk-or-v1-abc', models: {} } }).message).toMatch(/inference\.apiKeyEnv: expected the name of an environment variable/);
    expect(errorOf({ name: 'widgets', inference: { baseUrl: 'ftp://x.test', models: {} } }).message).toMatch(/inference\.baseUrl[\s\S]*http\(s\) URL/);
  });
});
