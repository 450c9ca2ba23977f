/** The first hour's CLI frictions: --version, unknown commands, one prefix, retry, send validation, a busy port. */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { ingestItems } from '../../src/store/tasks.js';
import { oxi, query, ROOT, sampleProject, spawnOxi, waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('the CLI itself', () => {
  it('oxi --version prints the package version', () => {
    const res = oxi(['--version']);
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('an unknown command says "unknown command X" and lists the commands, not the whole help', () => {
    const res = oxi(['stauts']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('oxi: unknown command stauts (did you mean status?)');
    expect(res.stderr).toMatch(/commands: demo, run, .*retry.*doctor/);
    expect(res.stderr).not.toContain('Usage:');
    expect(res.stderr.split('\n').length).toBeLessThan(6);
  });

  it('a message that names its command is printed with one prefix, not "oxi: oxi kill:"', () => {
    const res = oxi(['kill']);
    expect(res.code).toBe(2);
    expect(res.stderr.startsWith('oxi kill: expected --reason <text>, got none.')).toBe(true);
    expect(res.stderr).not.toContain('oxi: oxi');
  });
});

describe('oxi retry <taskId>', () => {
  const p = sampleProject({ tasks: 3 });
  cleanups.push(p.cleanup);
  const [abandoned, merged, waiting] = p.ids;
  const db = openDb(p.db);
  const now = Date.now();
  ingestItems(db, p.ids.map((id, seq) => ({ id, repo: 'demo', tier: 0, title: id, description: '', seq })), now);
  db.prepare(`UPDATE tasks SET status='abandoned', attempt=2, reason='agent failed: boom' WHERE id=?`).run(abandoned);
  db.prepare(`UPDATE tasks SET status='merged', pr=1 WHERE id=?`).run(merged);
  db.prepare(`UPDATE tasks SET status='backoff' WHERE id=?`).run(waiting);
  db.close();

  it('puts an abandoned task back in the queue, attempts reset, with a ledger row', () => {
    const res = oxi(['retry', abandoned], { cwd: p.dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`requeued ${abandoned}`);
    expect(query(p.db, 'SELECT status, attempt, reason FROM tasks WHERE id=?', abandoned)).toEqual([{ status: 'queued', attempt: 0, reason: null }]);
    expect(query(p.db, `SELECT kind FROM event WHERE task=? AND kind='task.queued'`, abandoned)).toHaveLength(1);
  });

  it('refuses a merged task, an unknown id, and a waiting task with no daemon, each with exit 2 and the fix', () => {
    const done = oxi(['retry', merged], { cwd: p.dir });
    expect(done.code).toBe(2);
    expect(done.stderr).toContain(`expected an abandoned or waiting task (abandoned, awaiting_human, backoff, deferred, pr_backoff), got ${merged} in merged`);
    const unknown = oxi(['retry', 'T9-nope'], { cwd: p.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('got "T9-nope", which no task has');
    expect(unknown.stderr).toContain(`Known tasks: ${p.ids.join(', ')}`);
    const wait = oxi(['retry', waiting], { cwd: p.dir });
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain(`${waiting} is backoff, and its wait lives in the daemon, but no daemon is running`);
  });
});

describe('a running daemon', () => {
  it('oxi send refuses an event the actor does not accept, listing the ones it does; a busy port names options run has', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => busy.close(() => r(undefined))));
    const port = (busy.address() as AddressInfo).port;
    const p = sampleProject({ tasks: 1, config: (c) => (c.engine.dashboard = { port }) });
    cleanups.push(p.cleanup);
    const d = spawnOxi(['run'], p.dir);
    cleanups.push(async () => {
      if (d.exitCode === null && d.signalCode === null) (d.kill('SIGKILL'), await d.exited);
    });
    await waitFor('the dashboard message', () => d.output().includes('dashboard not started'), 60_000);
    expect(d.output()).toContain(`could not listen on 127.0.0.1:${port}: EADDRINUSE`);
    expect(d.output()).toContain('Set engine.dashboard.port in the adapter to another port (0 picks a free one), or pass --no-dashboard.');
    expect(d.output()).not.toContain('--port');
    await waitFor('the daemon to answer', () => oxi(['status', '--json'], { cwd: p.dir }).stdout.includes('"daemon": {'), 60_000);

    const bad = oxi(['send', 'engineState', 'engine.explode'], { cwd: p.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('oxi send: engineState does not accept "engine.explode". Accepted events: ');
    expect(bad.stderr).toMatch(/Accepted events: .*engine\.kill.*engine\.unkill/);
    expect(bad.stderr).not.toContain('oxi: oxi');
    const good = oxi(['send', 'engineState', 'engine.kill', '--data', '{"reason":"test"}'], { cwd: p.dir });
    expect(good.code, good.stderr).toBe(0);
    d.kill('SIGTERM');
    await d.exited;
  });
});
