import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { oxi, query } from '../helpers/project.js';

const parent = mkdtempSync(join(tmpdir(), 'oxi-demo-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('oxi demo', { timeout: 900_000 }, () => {
  const dir = join(parent, 'empty-dir');
  mkdirSync(dir); // an existing empty directory must work

  it('takes every roadmap item to a merged change, and the sample project stays green on main', () => {
    // A loaded 2-core machine (other suites' daemons and sshd) can take minutes over four items.
    const res = oxi(['demo', '--dir', dir, '--tasks', '4', '--json'], { timeoutMs: 400_000 });
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.merged).toBe(4);
    expect(out.abandoned).toBe(0);
    expect(out.tasks.map((t: { status: string }) => t.status)).toEqual(['merged', 'merged', 'merged', 'merged']);
    for (const t of out.tasks) expect(typeof t.pr).toBe('number');
    // Items of a Done list are not tasks.
    expect(out.tasks.map((t: { id: string }) => t.id)).not.toContain('T0-100');
    // The project is left there, on main, with one squash commit per item and a green suite.
    const log = execFileSync('git', ['log', '--format=%s', 'main'], { cwd: dir, encoding: 'utf8' });
    for (const t of out.tasks) expect(log.split('\n').filter((l) => l.startsWith(`${t.id}:`))).toHaveLength(1);
    execFileSync('node', ['--test'], { cwd: dir, stdio: 'pipe' });
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: dir, encoding: 'utf8' })).toBe('');
    const events = query<{ kind: string }>(join(dir, '.oxi', 'oxi.db'), `SELECT kind FROM event WHERE task = ? ORDER BY id`, out.tasks[0].id).map((e) => e.kind);
    expect(events).toEqual(expect.arrayContaining(['task.planning', 'task.waiting', 'task.provisioning', 'task.working', 'workspace.setup', 'task.shipping', 'task.pr_open', 'task.checks', 'task.reviewing', 'task.merging', 'task.merged', 'auto_merge.merged']));
    // Each workspace was set up (an offline npm ci of the demo's lockfile, .env copied) before its worker.
    const setups = query<{ payload: string }>(join(dir, '.oxi', 'oxi.db'), `SELECT payload FROM event WHERE kind = 'workspace.setup'`).map((r) => JSON.parse(r.payload));
    expect(setups.map((p) => [p.ok, p.copied])).toEqual(out.tasks.map(() => [true, ['.env']]));
  });

  it('resumes instead of starting over when run again on the same dir', () => {
    const before = query<{ n: number }>(join(dir, '.oxi', 'oxi.db'), 'SELECT COUNT(*) AS n FROM pull_request')[0].n;
    const res = oxi(['demo', '--dir', dir, '--json'], { timeoutMs: 400_000 });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).merged).toBe(4);
    expect(query<{ n: number }>(join(dir, '.oxi', 'oxi.db'), 'SELECT COUNT(*) AS n FROM pull_request')[0].n).toBe(before);
  });

  it('reads its state back through the other commands', () => {
    const cfg = join(dir, 'oxi.config.json');
    const tasks = JSON.parse(oxi(['--config', cfg, 'tasks', '--json']).stdout);
    expect(tasks[0]).toEqual(expect.objectContaining({ id: expect.any(String), tier: expect.any(Number), title: expect.any(String), status: 'merged', attempts: 1, pr: expect.any(Number), host: 'local', last_progress_at: expect.any(String) }));
    expect(JSON.parse(oxi(['--config', cfg, 'tasks', '--json', '--status', 'abandoned']).stdout)).toEqual([]);
    const status = JSON.parse(oxi(['--config', cfg, 'status', '--json']).stdout);
    expect(status.engine.killed).toBe(false);
    expect(status.counts).toEqual({ merged: 4 });
    expect(status.spend.today).toBeGreaterThan(0);
    const roadmap = JSON.parse(oxi(['--config', cfg, 'roadmap', '--json']).stdout);
    expect(roadmap.map((i: { id: string }) => i.id)).toEqual(tasks.map((t: { id: string }) => t.id).sort((a: string, b: string) => roadmap.findIndex((i: { id: string }) => i.id === a) - roadmap.findIndex((i: { id: string }) => i.id === b)));
    expect(Object.keys(roadmap[0])).toEqual(['id', 'tier', 'title', 'description']);
  });

  it('refuses a non-empty directory that is not a demo, and bad input, with a clear message and exit 2', () => {
    const other = join(parent, 'not-a-demo');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'mine');
    const res = oxi(['demo', '--dir', other]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/not empty/);
    const bad = oxi(['demo', '--dir', join(parent, 'x'), '--tasks', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tasks: expected a whole number/);
    const unknownStatus = oxi(['--config', join(dir, 'oxi.config.json'), 'tasks', '--status', 'done']);
    expect(unknownStatus.code).toBe(2);
    expect(unknownStatus.stderr).toMatch(/expected one of/);
    const noDaemon = oxi(['--config', join(dir, 'oxi.config.json'), 'send', 'task:T0-101', 'task.retry']);
    expect(noDaemon.code).toBe(2);
    expect(noDaemon.stderr).toMatch(/No oxi daemon is running/);
  });
});
