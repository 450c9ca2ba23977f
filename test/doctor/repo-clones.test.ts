/**
 * `oxi doctor` with several repositories: each host's clone of each one. A local host works in each
 * repository's path (a git repository); an SSH host in its `repos.<name>.mainClone` (a real sshd on
 * loopback, real clones). One missing clone on an SSH host is a warning (its tasks go elsewhere), a
 * declared one that is not a clone a failure, each with its fix.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleRepos } from '../../src/demo/sample-repos.js';
import { oxi } from '../helpers/project.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

const parent = mkdtempSync(join(tmpdir(), 'oxi-doctor-repos-'));
const dir = join(parent, 'demo');
let sshd: TestSshd;
let configPath: string;

beforeAll(async () => {
  sshd = await startSshd();
  configPath = createSampleRepos({ dir, tasks: 1, repos: 2 }).configPath;
  // The SSH host has a real clone of math, names a calc clone that is not there; a second one has neither.
  execFileSync('git', ['clone', '-q', join(dir, 'math'), join(sshd.dir, 'math')]);
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  const ssh = (name: string, repos?: Record<string, { mainClone: string }>) => ({
    name, kind: 'ssh', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHosts: sshd.knownHosts,
    worktreesRoot: join(sshd.dir, `work-${name}`), ...(repos ? { repos } : {}),
  });
  config.hosts = [
    { name: 'local', kind: 'local' },
    ssh('box', { math: { mainClone: join(sshd.dir, 'math') }, calc: { mainClone: join(sshd.dir, 'calc') } }),
    ssh('bare'),
  ];
  writeFileSync(configPath, JSON.stringify(config, null, 2));
});
afterAll(async () => {
  await sshd?.cleanup();
  rmSync(parent, { recursive: true, force: true });
});

describe('oxi doctor: each host has each repository\'s clone', () => {
  it('local paths are git repositories; SSH clones are checked on the host, a missing one warns, a broken one fails', () => {
    const res = oxi(['--config', configPath, 'doctor', '--json'], { timeoutMs: 300_000 });
    expect(res.code, res.stderr).toBe(1);
    const out = JSON.parse(res.stdout) as { checks: Array<{ id: string; status: string; detail: string; fix?: string }> };
    const clone = Object.fromEntries(out.checks.filter((c) => c.id.includes(':clone:')).map((c) => [c.id, c]));
    expect(Object.fromEntries(Object.entries(clone).map(([id, c]) => [id, c.status]))).toEqual({
      'host:local:clone:math': 'ok',
      'host:local:clone:calc': 'ok',
      'host:box:clone:math': 'ok',
      'host:box:clone:calc': 'fail',
      'host:bare:clone:math': 'warn',
      'host:bare:clone:calc': 'warn',
    });
    expect(clone['host:local:clone:calc'].detail).toContain(`${join(dir, 'calc')} is a git repository`);
    expect(clone['host:box:clone:math'].detail).toContain(`${join(sshd.dir, 'math')} (origin ${join(dir, 'math')})`);
    expect(clone['host:box:clone:calc'].detail).toContain(`${join(sshd.dir, 'calc')} is not a clone with an origin remote`);
    expect(clone['host:box:clone:calc'].fix).toBe(`On "box": git clone <the calc repository> ${join(sshd.dir, 'calc')}`);
    expect(clone['host:bare:clone:math'].fix).toContain('repos: { math: { mainClone: "/path/on/host" } }');
    // The host-wide mainClone check is for a single repository: not run when each repository names its clone.
    expect(out.checks.some((c) => c.id === 'host:box:main_clone')).toBe(false);
  });

  it('a repository path that is not a git repository fails on the local host, with the fix', () => {
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    mkdirSync(join(dir, 'empty'));
    config.repos[1].path = 'empty';
    config.hosts = [{ name: 'local', kind: 'local' }];
    const other = join(dir, 'other.config.json');
    writeFileSync(other, JSON.stringify(config, null, 2));
    const res = oxi(['--config', other, 'doctor'], { timeoutMs: 300_000 });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/ok\s+host:local:clone:math\s+local \(local\): math: .* is a git repository/);
    expect(res.stdout).toMatch(/fail\s+host:local:clone:calc\s+local \(local\): calc: .*empty is not a git repository/);
    expect(res.stdout).toContain(`fix: git clone <the calc repository> ${join(dir, 'empty')}, or point repos.calc.path at its clone.`);
  });
});
