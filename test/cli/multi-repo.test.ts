/**
 * The read commands with several repositories in one engine: `<repo>/<id>` identity, `repo` on every
 * task, `--repo` filters (and refuses an unknown name, listing the known ones), spend per repository.
 * Real CLI runs against a real database and two real git repositories (the `oxi demo --repos 2` layout).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSampleRepos } from '../../src/demo/sample-repos.js';
import { openDb } from '../../src/store/db.js';
import { appendEvent } from '../../src/store/ledger.js';
import { ingestItems } from '../../src/store/tasks.js';
import { oxi, sampleProject } from '../helpers/project.js';

const parent = mkdtempSync(join(tmpdir(), 'oxi-multi-'));
const single = sampleProject({ tasks: 2 });
afterAll(() => {
  rmSync(parent, { recursive: true, force: true });
  single.cleanup();
});

const dir = join(parent, 'two');
const { configPath } = createSampleRepos({ dir, tasks: 2, repos: 2 });
const cfg = ['--config', configPath];
const now = Date.now();
{
  const db = openDb(join(dir, '.oxi', 'oxi.db'));
  // The same roadmap ids in both repositories: the engine ids differ by their repository.
  ingestItems(db, [
    { id: 'math/T0-101', repo: 'math', tier: 0, title: 'Add double', description: '', seq: 0 },
    { id: 'math/T1-102', repo: 'math', tier: 1, title: 'Add square', description: '', seq: 1 },
    { id: 'calc/T0-101', repo: 'calc', tier: 0, title: 'Add decrement', description: '', seq: 0 },
  ], now);
  db.prepare(`UPDATE tasks SET status='merged', pr=1, host='local' WHERE id='math/T0-101'`).run();
  db.prepare(`UPDATE tasks SET status='abandoned', reason='checks failed', host='local' WHERE id='calc/T0-101'`).run();
  appendEvent(db, { at: now - 1000, actor: 'task:math/T0-101', kind: 'spend', task: 'math/T0-101', payload: { usd: 0.5, role: 'worker', task: 'math/T0-101' } });
  appendEvent(db, { at: now - 900, actor: 'task:calc/T0-101', kind: 'spend', task: 'calc/T0-101', payload: { usd: 0.25, role: 'worker', task: 'calc/T0-101' } });
  appendEvent(db, { at: now - 800, actor: 'task:math/T0-101', kind: 'task.merged', task: 'math/T0-101', payload: {} });
  appendEvent(db, { at: now - 700, actor: 'task:calc/T0-101', kind: 'task.abandoned', task: 'calc/T0-101', payload: {} });
  db.close();
}

describe('oxi tasks with several repositories', () => {
  it('shows each task as <repo>/<id>, and --json carries its repo', () => {
    const res = oxi([...cfg, 'tasks']);
    expect(res.code, res.stderr).toBe(0);
    const ids = res.stdout.split('\n').slice(1).filter((l) => /^\w+\//.test(l)).map((l) => l.split(/\s+/)[0]);
    expect(ids.sort()).toEqual(['calc/T0-101', 'math/T0-101', 'math/T1-102']);
    const json = JSON.parse(oxi([...cfg, 'tasks', '--json']).stdout) as Array<{ id: string; repo: string; logs: string }>;
    expect(json.map((t) => [t.id, t.repo]).sort()).toEqual([['calc/T0-101', 'calc'], ['math/T0-101', 'math'], ['math/T1-102', 'math']]);
    expect(json.find((t) => t.id === 'calc/T0-101')!.logs).toBe(join(dir, '.oxi', 'logs', 'calc', 'T0-101'));
  });

  it('--repo NAME lists only that repository\'s tasks, with --status too', () => {
    const math = JSON.parse(oxi([...cfg, 'tasks', '--repo', 'math', '--json']).stdout) as Array<{ id: string; repo: string }>;
    expect(math.map((t) => t.id)).toEqual(['math/T0-101', 'math/T1-102']);
    const calc = oxi([...cfg, 'tasks', '--repo', 'calc']);
    expect(calc.code, calc.stderr).toBe(0);
    expect(calc.stdout).toContain('calc/T0-101');
    expect(calc.stdout).not.toContain('math/');
    expect(JSON.parse(oxi([...cfg, 'tasks', '--repo', 'math', '--status', 'merged', '--json']).stdout).map((t: { id: string }) => t.id)).toEqual(['math/T0-101']);
  });

  it('an unknown --repo exits 2 with the known names', () => {
    const res = oxi([...cfg, 'tasks', '--repo', 'prodcut']);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('--repo: expected one of "math", "calc", got "prodcut"');
    expect(res.stderr).toMatch(/fix: .*--repo math/);
  });
});

describe('oxi roadmap with several repositories', () => {
  it('without --repo: every repository\'s items under its name; --json items carry their repo', () => {
    const res = oxi([...cfg, 'roadmap']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^math \(.*math\/ROADMAP\.md\)\n {2}T0-101 +tier 0 {2}Add `double\(x\)`[^]*\n\ncalc \(.*calc\/ROADMAP\.md\)\n {2}T0-101 +tier 0 {2}Add `decrement\(x\)`/);
    const json = JSON.parse(oxi([...cfg, 'roadmap', '--json']).stdout) as Array<{ repo: string; id: string }>;
    expect(json.map((i) => `${i.repo}/${i.id}`)).toEqual(['math/T0-101', 'math/T1-102', 'calc/T0-101', 'calc/T1-102']);
  });

  it('--repo NAME: that repository\'s roadmap only; an unknown name exits 2', () => {
    const res = oxi([...cfg, 'roadmap', '--repo', 'calc']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trimEnd().split('\n')).toEqual([expect.stringMatching(/^T0-101 +tier 0 {2}Add `decrement\(x\)`/), expect.stringMatching(/^T1-102 +tier 1 {2}Add `cube\(x\)`/)]);
    const bad = oxi([...cfg, 'roadmap', '--repo', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected one of "math", "calc", got "nope"');
    const both = oxi([...cfg, 'roadmap', '--repo', 'calc', '--file', join(dir, 'calc', 'ROADMAP.md')]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--file and --repo/);
  });
});

describe('oxi status --dry-run with several repositories', () => {
  it('reads each repository\'s roadmap: one line each, and repos in --json', () => {
    const res = oxi([...cfg, 'status', '--dry-run']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`math: roadmap ${join(dir, 'math', 'ROADMAP.md')}: 2 items\ncalc: roadmap ${join(dir, 'calc', 'ROADMAP.md')}: 2 items`);
    const json = JSON.parse(oxi([...cfg, 'status', '--dry-run', '--json']).stdout);
    expect(json.repos).toEqual([
      { name: 'math', roadmap: join(dir, 'math', 'ROADMAP.md'), items: 2 },
      { name: 'calc', roadmap: join(dir, 'calc', 'ROADMAP.md'), items: 2 },
    ]);
  });
});

describe('spend per repository', () => {
  it('oxi status: a line with each repository\'s spend today; --json repos with counts and caps', () => {
    const res = oxi([...cfg, 'status']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('by repository: math $0.50, calc $0.25');
    const json = JSON.parse(oxi([...cfg, 'status', '--json']).stdout);
    expect(json.repos).toEqual([
      { name: 'math', counts: { merged: 1, queued: 1 }, todayUsd: 0.5, dailyHardUsd: 50 },
      { name: 'calc', counts: { abandoned: 1 }, todayUsd: 0.25, dailyHardUsd: 50 },
    ]);
  });

  it('oxi brief: tasks read <repo>/<id>, and the spend table has a row per repository', () => {
    const res = oxi([...cfg, 'brief', '--hours', '1']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('- math/T0-101 · Add double — PR #1');
    expect(res.stdout).toContain('- calc/T0-101 · Add decrement — checks failed');
    expect(res.stdout).toContain('| math: last 1 h · today | $0.50 · $0.50 | |');
    expect(res.stdout).toContain('| calc: last 1 h · today | $0.25 · $0.25 | |');
    const json = JSON.parse(oxi([...cfg, 'brief', '--hours', '1', '--json']).stdout);
    expect(json.repos).toEqual([{ name: 'math', windowUsd: 0.5, todayUsd: 0.5 }, { name: 'calc', windowUsd: 0.25, todayUsd: 0.25 }]);
    expect(json.merged[0]).toMatchObject({ task: 'math/T0-101', repo: 'math' });
  });
});

describe('one repository: output as before, plus repo', () => {
  it('plain ids, no per-repository line, repo = the adapter\'s name on every task; --repo takes that name only', () => {
    const db = openDb(single.db);
    ingestItems(db, single.ids.map((id, seq) => ({ id, repo: 'demo', tier: 0, title: `Title ${id}`, description: '', seq })), now);
    db.close();
    const table = oxi(['tasks'], { cwd: single.dir });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(single.ids);
    const json = JSON.parse(oxi(['tasks', '--json'], { cwd: single.dir }).stdout) as Array<{ id: string; repo: string }>;
    expect(json.map((t) => [t.id, t.repo])).toEqual(single.ids.map((id) => [id, 'demo']));
    expect(JSON.parse(oxi(['tasks', '--json', '--repo', 'demo'], { cwd: single.dir }).stdout)).toHaveLength(single.ids.length);
    const bad = oxi(['tasks', '--repo', 'math'], { cwd: single.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected one of "demo", got "math"');
    expect(oxi(['status'], { cwd: single.dir }).stdout).not.toContain('by repository');
    const roadmap = JSON.parse(oxi(['roadmap', '--json'], { cwd: single.dir }).stdout);
    expect(Object.keys(roadmap[0])).toEqual(['id', 'tier', 'title', 'description']);
  });
});
