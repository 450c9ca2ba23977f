/** Preflight: a project that would fail every task stops before any agent runs, exit 2, with the fix. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oxi, sampleProject } from '../helpers/project.js';

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

function project(options: Parameters<typeof sampleProject>[0] = {}) {
  const p = sampleProject({ tasks: 1, ...options });
  cleanups.push(p.cleanup);
  return p;
}

describe('preflight', () => {
  it('not a git repository: oxi tick stops before the database or any agent, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oxi-nogit-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'oxi.config.json'), JSON.stringify({ name: 'nogit', checks: { command: ['node', '--version'] } }));
    writeFileSync(join(dir, 'ROADMAP.md'), '## Tier 0\n\n**T0-1 · One**\n_one_\n');
    const res = oxi(['tick'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('nothing was dispatched');
    expect(res.stderr).toContain(`error: expected a git repository at ${dir} (repo.path), found none`);
    expect(res.stderr).toContain('fix: Run `git init && git commit --allow-empty -m init`');
    expect(existsSync(join(dir, '.oxi', 'oxi.db'))).toBe(false);
  });

  it('a checks program that cannot be found (it would exit 127): oxi run refuses to start, exit 2', () => {
    const p = project({ config: (c) => (c.checks.command = ['sh', '-c', 'no-such-checks-tool --all']) });
    const res = oxi(['run', '--no-dashboard'], { cwd: p.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('expected the checks command ["sh","-c","no-such-checks-tool --all"] to be runnable, but "no-such-checks-tool" is not found');
    expect(res.stderr).toContain('it would exit 127 on every task');
    expect(res.stderr).toContain('fix: Install no-such-checks-tool, or set checks.command');
    expect(existsSync(p.db)).toBe(false);
  });

  it('a main branch that does not exist: status --dry-run names the branches there are', () => {
    const p = project({ config: (c) => (c.repo.mainBranch = 'trunk') });
    const res = oxi(['status', '--dry-run'], { cwd: p.dir });
    expect(res.code).toBe(2);
    expect(res.stdout).toContain(`error: expected the main branch "trunk" (repo.mainBranch) in ${p.dir}, found only main`);
    expect(res.stdout).toContain('fix: Set repo.mainBranch to one of them, or create it: git branch trunk');
  });

  it('a GitHub forge whose remote does not exist: status --dry-run --json lists it with the fix', () => {
    const p = project({ config: (c) => (c.repo.forge = { kind: 'github', owner: 'acme', name: 'widgets' }) });
    const res = oxi(['status', '--dry-run', '--json'], { cwd: p.dir });
    expect(res.code).toBe(2);
    const out = JSON.parse(res.stdout);
    expect(out.ok).toBe(false);
    expect(out.problems).toContainEqual({ id: 'remote', status: 'fail', detail: `expected the git remote "origin" (repo.forge.remote) in ${p.dir}, found no remote`, fix: 'git remote add origin git@github.com:acme/widgets.git' });
  });

  it('roadmap headings and items it does not recognise are warnings with line numbers; zero items is an error', () => {
    const p = project();
    writeFileSync(join(p.dir, 'ROADMAP.md'), '# R\n\n### Tier 0\n\n**T0-1 · under a level-3 heading**\n\n## Tier zero\n\n**T0-2 · under a word**\n');
    const none = oxi(['status', '--dry-run'], { cwd: p.dir });
    expect(none.code).toBe(2);
    expect(none.stdout).toContain(`warning: ${join(p.dir, 'ROADMAP.md')}:3: Heading "### Tier 0" is level 3: tiers are level-2 headings, expected \`## Tier 0\`.`);
    expect(none.stdout).toContain(`warning: ${join(p.dir, 'ROADMAP.md')}:5: Item outside any tier, under "# R" (line 1); ignored.`);
    expect(none.stdout).toContain(':7: Heading "## Tier zero" is not a tier oxi recognises: expected `## Tier <number>`');
    expect(none.stdout).toContain(':9: Item outside any tier, under "## Tier zero" (line 7)');
    expect(none.stdout).toContain(`error: expected at least one item in ${join(p.dir, 'ROADMAP.md')}, found none`);
    // With one real item the same warnings do not stop it.
    writeFileSync(join(p.dir, 'ROADMAP.md'), '## Tier zero\n\n**T0-2 · under a word**\n\n## Tier 0\n\n**T0-1 · real**\n');
    const some = oxi(['status', '--dry-run'], { cwd: p.dir });
    expect(some.code, some.stdout + some.stderr).toBe(0);
    expect(some.stdout).toContain(':1: Heading "## Tier zero" is not a tier oxi recognises');
  });

  it('two ids that map to the same branch stop oxi tick, exit 2', () => {
    const p = project();
    writeFileSync(join(p.dir, 'ROADMAP.md'), '## Tier 0\n\n**T0-abc · one**\n\n**T0-ABC · two**\n');
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'roadmap'], { cwd: p.dir });
    const res = oxi(['tick'], { cwd: p.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('T0-ABC and T0-abc (line 3) map to the same branch');
    expect(existsSync(p.db)).toBe(false);
  });

  it('an agent command that is not runnable: doctor runs the configured command, not the one on PATH; tick refuses', () => {
    const p = project({
      config: (c) => {
        c.agents.worker = { backend: 'claude' };
        c.agents.claude = { command: ['/nonexistent/bin/claude-custom'] };
      },
    });
    const doctor = oxi(['doctor', '--json'], { cwd: p.dir });
    expect(doctor.code).toBe(1);
    const check = JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === 'agent:claude');
    expect(check.status).toBe('fail');
    expect(check.detail).toContain('expected agents.claude.command ["/nonexistent/bin/claude-custom"] to run');
    const tick = oxi(['tick'], { cwd: p.dir });
    expect(tick.code).toBe(2);
    expect(tick.stderr).toContain('expected agents.claude.command ["/nonexistent/bin/claude-custom"] to be runnable');
  });
});
