import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAdapter } from '../../src/config/load.js';
import { oxi } from '../helpers/project.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A temp git repo named `widgets` with an origin on GitHub and a package.json test script. */
function repo(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'oxi-init-')), 'widgets');
  dirs.push(join(dir, '..'));
  execFileSync('git', ['init', '-q', '-b', 'trunk', dir]);
  execFileSync('git', ['remote', 'add', 'origin', 'git@github.com:acme/widgets.git'], { cwd: dir });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { test: 'node --test' } }));
  writeFileSync(join(dir, '.gitignore'), 'node_modules/');
  return dir;
}

const ROADMAP = '# Roadmap\n\n## Tier 0\n\n- **T0-1 · Add a flag**\n  _Print the version._\n\n- **T0-2 · Add a test**\n  _Cover the flag._\n';

describe('oxi init --yes', () => {
  it('writes a config that loads, creates .oxi/, ignores it, and status --dry-run succeeds', async () => {
    const dir = repo();
    writeFileSync(join(dir, 'ROADMAP.md'), ROADMAP);
    const res = oxi(['init', dir, '--yes', '--per-task-usd', '3', '--hosts', 'local:3,build-1=ci@10.0.0.5:2222/srv/widgets:4', '--worker', 'codex', '--max-workers', '6', '--plan-tier', 'max']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('ok: oxi.config.ts loads and the roadmap parses (2 items)');

    const adapter = await loadAdapter({ cwd: dir });
    expect(adapter.name).toBe('widgets');
    expect(adapter.repo).toEqual({ path: dir, mainBranch: 'trunk', forge: { kind: 'github', owner: 'acme', name: 'widgets', tokenEnv: 'GITHUB_TOKEN' } });
    expect(adapter.budget).toEqual({ perTaskUsd: 3, dailySoftUsd: 20, dailyHardUsd: 50 });
    expect(adapter.planTier).toEqual({ name: 'max', maxWorkers: 6 });
    expect(adapter.hosts).toEqual([
      { name: 'local', kind: 'local', maxWorkers: 3 },
      { name: 'build-1', kind: 'ssh', address: '10.0.0.5', port: 2222, user: 'ci', maxWorkers: 4, mainClone: '/srv/widgets', worktreesRoot: '/srv/widgets-worktrees' },
    ]);
    expect([adapter.agents.planner.backend, adapter.agents.worker.backend, adapter.agents.critic.backend]).toEqual(['claude', 'codex', 'claude']);
    expect(adapter.checks.command).toEqual(['npm', 'test']);
    expect(adapter.paths.db).toBe(join(dir, '.oxi', 'oxi.db'));
    expect(readFileSync(join(dir, 'oxi.config.ts'), 'utf8')).toMatch(/^import type \{ AdapterInput \} from 'oxi';[\s\S]*\} satisfies AdapterInput;\n$/);
    expect(existsSync(join(dir, '.oxi'))).toBe(true);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n# oxi state: database, logs, worktrees\n.oxi/\n');

    // A repository with no commit has no main branch yet: preflight says so before any agent runs.
    const unborn = oxi(['status', '--dry-run'], { cwd: dir });
    expect(unborn.code).toBe(2);
    expect(unborn.stdout).toContain(`error: expected the main branch "trunk" (repo.mainBranch) in ${dir}, found no branch (no commit yet)`);
    expect(unborn.stdout).toContain('fix: Make a first commit: git commit --allow-empty -m init');
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: dir });
    const dry = oxi(['status', '--dry-run', '--json'], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ ok: true, config: 'widgets', items: 2 });

    // Running it again with --force keeps .gitignore to one line.
    expect(oxi(['init', dir, '--yes', '--force'], {}).code).toBe(0);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').match(/\.oxi\//g)).toHaveLength(1);
  });

  it('suggests the setup from the lockfiles it sees, and --setup overrides it', async () => {
    const dir = repo();
    writeFileSync(join(dir, 'ROADMAP.md'), ROADMAP);
    writeFileSync(join(dir, 'Cargo.lock'), '# lock\n');
    expect(oxi(['init', dir, '--yes', '--repo', 'local']).code).toBe(0);
    expect((await loadAdapter({ cwd: dir })).workspace.setup).toMatchObject({ command: ['cargo', 'fetch', '--locked'], cacheKey: ['Cargo.lock'] });
    expect(oxi(['init', dir, '--yes', '--force', '--repo', 'local', '--setup', 'make deps && make env']).code).toBe(0);
    const typed = (await loadAdapter({ cwd: dir })).workspace.setup;
    expect(typed?.command).toEqual(['sh', '-c', 'make deps && make env']);
    expect(typed?.cacheKey).toBeUndefined();
    expect(oxi(['init', dir, '--yes', '--force', '--repo', 'local', '--setup', 'none']).code).toBe(0);
    expect((await loadAdapter({ cwd: dir })).workspace.setup).toBeUndefined();
  });

  it('writes a starter roadmap with no items when there is none; --json reports what it did', () => {
    const dir = repo();
    const res = oxi(['init', dir, '--yes', '--repo', 'local', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out).toMatchObject({ ok: true, configPath: join(dir, 'oxi.config.ts'), roadmap: { path: join(dir, 'ROADMAP.md'), items: 0, created: true } });
    expect(readFileSync(join(dir, 'ROADMAP.md'), 'utf8')).toContain('## Tier 0');
    expect(oxi(['roadmap', '--json'], { cwd: dir }).stdout.trim()).toBe('[]');
  });

  it('a bad answer is a clear error and nothing is written', () => {
    const dir = repo();
    const bad = oxi(['init', dir, '--yes', '--name', 'My Project']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--name: expected a project name of lowercase letters, digits and dashes, starting with a letter or digit (e.g. widgets), got "My Project"; nothing was written.');
    const caps = oxi(['init', dir, '--yes', '--daily-soft-usd', '80']);
    expect(caps.code).toBe(2);
    expect(caps.stderr).toContain('--daily-soft-usd: expected at most the hard cap ($50), got $80');
    const hosts = oxi(['init', dir, '--yes', '--hosts', 'build-1@nowhere']);
    expect(hosts.stderr).toContain('"build-1@nowhere" is neither');
    expect(oxi(['init', dir, '--yes', '--agents', 'gpt']).stderr).toContain('--agents: expected one of claude, codex, scripted, got "gpt"');
    expect(existsSync(join(dir, 'oxi.config.ts'))).toBe(false);
    expect(existsSync(join(dir, '.oxi'))).toBe(false);
  });

  it('a roadmap with errors: the config is written, the failure is explained, exit non-zero', () => {
    const dir = repo();
    writeFileSync(join(dir, 'ROADMAP.md'), `${ROADMAP}\n- **T0-1 · Again**\n  _dup._\n`);
    const res = oxi(['init', dir, '--yes']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`oxi init wrote ${join(dir, 'oxi.config.ts')}, but it does not validate: The roadmap ${join(dir, 'ROADMAP.md')} has 1 error(s):`);
    expect(res.stderr).toContain('Duplicate id T0-1');
    expect(res.stderr).toContain('fix:');
  });

  it('never overwrites an existing config without --force', () => {
    const dir = repo();
    writeFileSync(join(dir, 'oxi.config.json'), '{"name":"mine"}');
    const res = oxi(['init', dir, '--yes']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`expected no adapter config in ${dir}, found ${join(dir, 'oxi.config.json')}; nothing was written.`);
    expect(res.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'oxi.config.json'), 'utf8')).toBe('{"name":"mine"}');
    expect(existsSync(join(dir, 'oxi.config.ts'))).toBe(false);
  });

  it('without --yes and without a terminal it says how to run non-interactively', () => {
    const res = oxi(['init', repo()]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('expected an interactive terminal for the wizard, got no TTY on stdin');
    expect(res.stderr).toContain('--yes');
  });
});
