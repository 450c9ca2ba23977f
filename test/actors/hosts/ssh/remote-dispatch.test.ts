import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oxi, query, spawnOxi, waitFor } from '../../../helpers/project.js';
import { twoHostProject, type TwoHosts } from '../../../helpers/two-hosts.js';

const setups: TwoHosts[] = [];
const daemons: Array<ReturnType<typeof spawnOxi>> = [];
afterAll(async () => {
  // A test that timed out never reached its finally: its daemon goes here.
  for (const d of daemons) if (d.exitCode === null && d.signalCode === null) (d.kill('SIGKILL'), await d.exited);
  for (const s of setups) await s.cleanup();
});

interface Row { id: string; status: string; host: string | null; attempt: number; worker_pid: number | null }

describe('dispatch onto two SSH hosts (real sshd)', () => {
  it('spreads a multi-task run across both hosts, provisions and runs each task on the same host, and merges everything', async () => {
    const setup = await twoHostProject({ tasks: 5 });
    setups.push(setup);
    const { project, hosts } = setup;
    // Every SSH command runs the login shell's init on these hosts: a multi-task run takes minutes on a busy machine.
    const res = oxi(['demo', '--dir', project.dir, '--json', '--no-dashboard'], { timeoutMs: 540_000 });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.merged).toBe(5);
    const rows = query<Row>(project.db, 'SELECT id, status, host, attempt, worker_pid FROM tasks ORDER BY id');
    expect(new Set(rows.map((r) => r.host))).toEqual(new Set(['alpha', 'beta']));
    for (const r of rows) {
      // The worktree and the worker's stream are on the host that held the slot, and nowhere else.
      const mine = hosts[r.host as 'alpha' | 'beta'];
      const other = hosts[r.host === 'alpha' ? 'beta' : 'alpha'];
      const ns = `${JSON.parse(execFileSync('cat', [project.configPath], { encoding: 'utf8' })).name}-default`;
      expect(existsSync(join(mine.dir, 'work', ns, r.id)), r.id).toBe(true);
      expect(existsSync(join(other.dir, 'work', ns, r.id)), r.id).toBe(false);
      expect(existsSync(join(mine.dir, 'work', '.oxi-logs', ns, r.id, 'worker-a0-f0.ndjson.pid')), r.id).toBe(true);
      expect(r.attempt).toBe(0);
    }
    const log = execFileSync('git', ['log', '--format=%s', 'main'], { cwd: project.dir, encoding: 'utf8' });
    for (const r of rows) expect(log.split('\n').filter((l) => l.startsWith(`${r.id}:`))).toHaveLength(1);
    execFileSync('node', ['--test'], { cwd: project.dir, stdio: 'pipe' });
  }, 600_000);

  it('a host whose sshd dies mid-run goes unreachable; its task is neither lost nor run twice, and finishes when the host is back', { timeout: 600_000 }, async () => {
    const setup = await twoHostProject({
      tasks: 4,
      script: (s) => {
        for (const t of Object.values(s.tasks)) Object.assign(t, { behaviour: 'slow', delayMs: 4000 });
      },
    });
    setups.push(setup);
    const { project, hosts } = setup;
    const child = spawnOxi(['demo', '--dir', project.dir, '--json', '--no-dashboard']);
    daemons.push(child);
    try {
      const victim = await waitFor('a task working on beta', () => query<Row>(project.db, `SELECT id, status, host, attempt, worker_pid FROM tasks WHERE host = 'beta' AND status = 'working' AND worker_pid IS NOT NULL`)[0], 240_000);
      await hosts.beta.stop();
      // While beta is down its worker runs on: the task stays working on beta, with the same worker.
      await new Promise((r) => setTimeout(r, 2500));
      const during = query<Row>(project.db, 'SELECT id, status, host, attempt, worker_pid FROM tasks WHERE id = ?', victim.id)[0];
      expect(during).toEqual(expect.objectContaining({ status: 'working', host: 'beta', attempt: 0, worker_pid: victim.worker_pid }));
      await hosts.beta.start();
      const code = await child.exited;
      expect(code, child.output()).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const rows = query<Row>(project.db, 'SELECT id, status, host, attempt, worker_pid FROM tasks ORDER BY id');
    expect(rows.map((r) => r.status)).toEqual(['merged', 'merged', 'merged', 'merged']);
    // No task was dispatched a second time.
    expect(rows.map((r) => r.attempt)).toEqual([0, 0, 0, 0]);
    const reaped = query(project.db, `SELECT * FROM event WHERE kind IN ('task.reaped', 'reaper.reaped')`);
    expect(reaped).toEqual([]);
  });
});
