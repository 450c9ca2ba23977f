/**
 * `oxi demo --repos 2`: two sample repositories, one engine, every item of each merged into that
 * repository's own `main` (real git repositories, the scripted agent, the local forge).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oxi, query } from '../helpers/project.js';

const parent = mkdtempSync(join(tmpdir(), 'oxi-demo-repos-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('oxi demo --repos 2', { timeout: 900_000 }, () => {
  const dir = join(parent, 'two');

  it('merges every item of both repositories, each into its own main, under <repo>/<id> ids', () => {
    const res = oxi(['demo', '--dir', dir, '--repos', '2', '--tasks', '2', '--no-dashboard', '--json'], { timeoutMs: 600_000 });
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { merged: number; abandoned: number; tasks: Array<{ id: string; repo: string; status: string }> };
    expect(out.merged).toBe(4);
    expect(out.abandoned).toBe(0);
    expect(out.tasks.map((t) => `${t.id} ${t.repo} ${t.status}`).sort()).toEqual([
      'calc/T0-101 calc merged',
      'calc/T1-102 calc merged',
      'math/T0-101 math merged',
      'math/T1-102 math merged',
    ]);
    // Each repository's main has exactly its own items, one squash commit each, and a green suite.
    const subjects = (repo: string) => execFileSync('git', ['log', '--format=%s', 'main'], { cwd: join(dir, repo), encoding: 'utf8' }).split('\n').filter((l) => l !== 'Initial commit' && l !== '').map((l) => l.replace(/ \(#\d+\)$/, '')).sort();
    expect(subjects('math')).toEqual(['math/T0-101: Add `double(x)` to the math library', 'math/T1-102: Add `square(x)` to the math library']);
    expect(subjects('calc')).toEqual(['calc/T0-101: Add `decrement(x)` to the math library', 'calc/T1-102: Add `cube(x)` to the math library']);
    for (const repo of ['math', 'calc']) {
      execFileSync('node', ['--test'], { cwd: join(dir, repo), stdio: 'pipe' });
      expect(execFileSync('git', ['status', '--porcelain'], { cwd: join(dir, repo), encoding: 'utf8' })).toBe('');
    }
    // One engine, one database: both repositories' PRs in it.
    const prs = query<{ n: number }>(join(dir, '.oxi', 'oxi.db'), `SELECT COUNT(*) AS n FROM pull_request`)[0].n;
    expect(prs).toBe(4);
  });

  it('reads back per repository through the other commands', () => {
    const cfg = ['--config', join(dir, 'oxi.config.json')];
    const calc = JSON.parse(oxi([...cfg, 'tasks', '--repo', 'calc', '--json']).stdout) as Array<{ id: string; repo: string }>;
    expect(calc.map((t) => t.id).sort()).toEqual(['calc/T0-101', 'calc/T1-102']);
    const status = JSON.parse(oxi([...cfg, 'status', '--json']).stdout) as { repos: Array<{ name: string; counts: Record<string, number> }> };
    expect(status.repos.map((r) => [r.name, r.counts])).toEqual([['math', { merged: 2 }], ['calc', { merged: 2 }]]);
  });

  it('refuses a bad --repos with exit 2', () => {
    const res = oxi(['demo', '--dir', join(parent, 'bad'), '--repos', '9']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--repos: expected a whole number from 1 to 4, got 9');
  });
});
