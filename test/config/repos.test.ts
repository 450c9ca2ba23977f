import { describe, expect, it } from 'vitest';
import { adapterForRepo, adapterForTask, bareTaskId, engineTaskId, hostHasRepo, isMultiRepo, repoOfTask, repoViews } from '../../src/config/repos.js';
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

const two = {
  name: 'acme',
  policy: { scope: { sensitive: ['.github/'], protected: ['vendor/'] } },
  budget: { perTaskUsd: 3, dailySoftUsd: 20, dailyHardUsd: 40 },
  repos: [
    { name: 'product', path: 'product' },
    {
      name: 'engine',
      path: '../engine',
      mainBranch: 'trunk',
      forge: { kind: 'github', owner: 'acme', name: 'engine', tokenEnv: 'ENGINE_TOKEN' },
      roadmap: 'engine/ROADMAP.md',
      checks: { command: ['make', 'check'] },
      scope: { sensitive: ['src/core/'] },
      branches: { prefix: 'bot/' },
      budget: { perTaskUsd: 1, dailyHardUsd: 10 },
      routing: { worker: { backend: 'codex', model: 'gpt-5' } },
    },
  ],
  hosts: [
    { name: 'local', kind: 'local' },
    { name: 'box', kind: 'ssh', address: 'b', user: 'u', worktreesRoot: '/w', repos: { engine: { mainClone: '/src/engine' } } },
  ],
};

describe('repo: one repository, as before', () => {
  it('resolves to one view named after the adapter; task ids stay bare', () => {
    const a = validate({ name: 'widgets' });
    expect(a.repos).toBeUndefined();
    expect('repos' in a).toBe(false);
    expect(isMultiRepo(a)).toBe(false);
    expect(repoViews(a)).toEqual([
      expect.objectContaining({ name: 'widgets', repo: { path: '/proj', mainBranch: 'main', forge: { kind: 'local' } }, roadmap: '/proj/ROADMAP.md', branches: { prefix: 'oxi/' } }),
    ]);
    expect(engineTaskId(a, 'widgets', 'T0-1')).toBe('T0-1');
    expect(repoOfTask(a, 'T0-1')).toBe('widgets');
    expect(bareTaskId(a, 'T0-1')).toBe('T0-1');
    expect(adapterForTask(a, 'T0-1')).toBe(a);
  });

  it('an SSH host still needs its mainClone', () => {
    const e = errorOf({ name: 'w', hosts: [{ name: 'b', kind: 'ssh', address: 'b', user: 'u', worktreesRoot: '/w' }] });
    expect(e.message).toContain('- hosts.0.mainClone: expected an absolute path on the remote host (required');
  });
});

describe('repos: several repositories', () => {
  it('fills each entry from the top-level fields it omits', () => {
    const a = validate(two);
    expect(isMultiRepo(a)).toBe(true);
    const [product, engine] = repoViews(a);
    expect(product).toMatchObject({
      name: 'product',
      repo: { path: '/proj/product', mainBranch: 'main', forge: { kind: 'local' } },
      // An omitted markdown roadmap is read in the repository's own clone.
      roadmap: '/proj/product/ROADMAP.md',
      checks: { command: ['npm', 'test'] },
      scope: { sensitive: ['.github/'], protected: ['vendor/'] },
      branches: { prefix: 'oxi/' },
      budget: { perTaskUsd: 3, dailySoftUsd: 20, dailyHardUsd: 40 },
    });
    expect(engine).toMatchObject({
      repo: { path: '/engine', mainBranch: 'trunk', forge: { kind: 'github', owner: 'acme', name: 'engine', tokenEnv: 'ENGINE_TOKEN' } },
      roadmap: '/proj/engine/ROADMAP.md',
      checks: { command: ['make', 'check'], timeoutMs: 600_000 },
      scope: { sensitive: ['src/core/'], blocked: ['.env', 'secrets/'] },
      branches: { prefix: 'bot/' },
      // A hard cap under the global soft cap pulls the repository's soft cap down with it.
      budget: { perTaskUsd: 1, dailySoftUsd: 10, dailyHardUsd: 10 },
    });
    // The top-level repo is the first repository's.
    expect(a.repo.path).toBe('/proj/product');
  });

  it('task ids are <repo>/<id>; the task sees its own repository', () => {
    const a = validate(two);
    expect(engineTaskId(a, 'engine', 'T0-1')).toBe('engine/T0-1');
    expect(repoOfTask(a, 'engine/T0-1')).toBe('engine');
    expect(repoOfTask(a, { id: 'T0-1', repo: 'engine' })).toBe('engine');
    expect(bareTaskId(a, 'engine/T0-1')).toBe('T0-1');
    const e = adapterForTask(a, 'engine/T0-1');
    expect(e.scopedTo).toBe('engine');
    expect(e.repo.mainBranch).toBe('trunk');
    expect(e.checks.command).toEqual(['make', 'check']);
    expect(e.policy.scope).toMatchObject({ sensitive: ['src/core/'], protected: ['vendor/'] });
    expect(e.branches.prefix).toBe('bot/');
    expect(e.budget).toEqual({ perTaskUsd: 1, dailySoftUsd: 20, dailyHardUsd: 40 });
    expect(e.agents.worker).toMatchObject({ backend: 'codex', model: 'gpt-5' });
    expect(e.agents.planner.backend).toBe('scripted');
    expect(e.hosts[1]).toMatchObject({ mainClone: '/src/engine', worktreesRoot: '/w' });
    const p = adapterForRepo(a, 'product');
    expect(p.hosts[1]).toMatchObject({ mainClone: undefined });
    expect(hostHasRepo(a, 'box', 'engine')).toBe(true);
    expect(hostHasRepo(a, 'box', 'product')).toBe(false);
    expect(hostHasRepo(a, 'local', 'product')).toBe(true);
    expect(() => adapterForRepo(a, 'nope')).toThrow(/Expected a repository named in the adapter \(product, engine\); got "nope"/);
  });

  it('rejects duplicate names with the index of the first', () => {
    const e = errorOf({ name: 'a', repos: [{ name: 'x', path: 'a' }, { name: 'x', path: 'b' }] });
    expect(e.message).toContain('- repos.1.name: expected a unique repository name ("x" is already used by repos.0), got "x"');
  });

  it('rejects repo and repos together', () => {
    const e = errorOf({ name: 'a', repo: { path: '.' }, repos: [{ name: 'x', path: 'a' }] });
    expect(e.message).toContain('- repos: expected either `repo` or `repos`, not both');
  });

  it('rejects a host naming a repository that repos does not have', () => {
    const e = errorOf({ ...two, hosts: [{ name: 'box', kind: 'ssh', address: 'b', user: 'u', worktreesRoot: '/w', repos: { enigne: { mainClone: '/e' } } }] });
    expect(e.message).toContain('- hosts.0.repos: expected keys that are repositories of repos (product, engine), not "enigne", got {"enigne"');
  });

  it('rejects per-repository clones on a host with a single repo', () => {
    const e = errorOf({ name: 'a', hosts: [{ name: 'box', kind: 'ssh', address: 'b', user: 'u', mainClone: '/m', worktreesRoot: '/w', repos: { a: { mainClone: '/e' } } }] });
    expect(e.message).toContain('- hosts.0.repos: expected no per-repository clones with a single `repo`');
  });

  it('rejects a per-repository budget above the global one', () => {
    const e = errorOf({ ...two, repos: [{ name: 'x', path: 'x', budget: { perTaskUsd: 5, dailyHardUsd: 41 } }] });
    expect(e.message).toContain('- repos.0.budget.perTaskUsd: expected a number <= budget.perTaskUsd (3): a repository\'s cap lies inside the global one, got 5');
    expect(e.message).toContain('- repos.0.budget.dailyHardUsd: expected a number <= budget.dailyHardUsd (40)');
  });

  it('rejects a bad name and a github-issues roadmap on a local forge', () => {
    const e = errorOf({ name: 'a', repos: [{ name: 'Bad/Name', path: 'x', roadmap: { source: 'github-issues' } }] });
    expect(e.message).toContain('- repos.0.name: expected a repository name matching /^[a-z0-9][a-z0-9-]*$/');
    const f = errorOf({ name: 'a', repos: [{ name: 'x', path: 'x', roadmap: { source: 'github-issues' } }] });
    expect(f.message).toContain('- repos.0.roadmap: expected a roadmap source that matches the forge');
  });

  it('rejects an entry without a path, and an empty repos', () => {
    expect(errorOf({ name: 'a', repos: [{ name: 'x' }] }).message).toContain('- repos.0.path: expected a string (required)');
    expect(errorOf({ name: 'a', repos: [] }).message).toContain('- repos: expected a non-empty array');
  });
});
