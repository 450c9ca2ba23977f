import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBlackholeProxy, type BlackholeProxy } from '../../../helpers/blackhole-proxy.js';
import { isAlive, query, spawnOxi, waitFor } from '../../../helpers/project.js';
import { twoHostProject, type TwoHosts } from '../../../helpers/two-hosts.js';
import { snapshotOf } from '../../../../src/store/snapshots.js';

let setup: TwoHosts | undefined;
let proxy: BlackholeProxy | undefined;
let demo: ReturnType<typeof spawnOxi> | undefined;
afterAll(async () => {
  // A test that timed out never reached its finally: its daemon goes here.
  if (demo && demo.exitCode === null && demo.signalCode === null) (demo.kill('SIGKILL'), await demo.exited);
  proxy?.heal();
  await proxy?.close();
  await setup?.cleanup();
});

interface Row { id: string; status: string; host: string | null; attempt: number; worker_pid: number | null }
const taskRows = (db: string) => query<Row>(db, 'SELECT id, status, host, attempt, worker_pid FROM tasks ORDER BY id');

/** The host actor as persisted: its state and the capacity dispatch gives it. */
function hostState(db: string, name: string): { value: string; capacity: number } | undefined {
  const row = query<{ value: string; snapshot: string; context: string | null }>(db, 'SELECT value, snapshot, context FROM actor_snapshot WHERE actor = ?', `host:${name}`)[0];
  return row ? { value: row.value, capacity: (snapshotOf(row).context as { capacity: number }).capacity } : undefined;
}

// Every SSH command runs the login shell's init on these hosts: a loaded machine needs minutes for the run.
describe('a silent partition of one SSH host during a run (real sshd behind a blackhole relay)', { timeout: 480_000 }, () => {
  it('makes the host unreachable (capacity 0) without losing or doubling its running task, which finishes after the heal', async () => {
    setup = await twoHostProject({
      tasks: 4,
      script: (s) => {
        for (const t of Object.values(s.tasks)) Object.assign(t, { behaviour: 'slow', delayMs: 4000 });
      },
    });
    const { project, hosts } = setup;
    proxy = await startBlackholeProxy(hosts.beta.port);
    // beta is reached only through the relay, with keepalive short enough to notice the silence soon.
    const knownHosts = join(hosts.beta.dir, 'known_hosts.relay');
    writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${hosts.beta.hostKey}\n`);
    const config = JSON.parse(readFileSync(project.configPath, 'utf8'));
    const beta = config.hosts.find((h: { name: string }) => h.name === 'beta');
    Object.assign(beta, { port: proxy.port, knownHosts, connection: { keepaliveIntervalMs: 300, keepaliveCountMax: 2, connectTimeoutMs: 1500, commandTimeoutMs: 5000 } });
    writeFileSync(project.configPath, JSON.stringify(config, null, 2));
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'beta through the relay'], { cwd: project.dir });

    const child = (demo = spawnOxi(['demo', '--dir', project.dir, '--json', '--no-dashboard']));
    let onBetaDuring: string[] = [];
    try {
      const victim = await waitFor('a task working on beta', () => query<Row>(project.db, `SELECT id, status, host, attempt, worker_pid FROM tasks WHERE host = 'beta' AND status = 'working' AND worker_pid IS NOT NULL`)[0], 90_000);
      proxy.partition();

      // Keepalive notices the silence; the next probe fails: beta is unreachable and gets no slot.
      const down = await waitFor('beta to be seen unreachable', () => {
        const s = hostState(project.db, 'beta');
        return s && s.value.includes('unreachable') ? s : undefined;
      }, 60_000);
      expect(down.capacity).toBe(0);
      onBetaDuring = taskRows(project.db).filter((r) => r.host === 'beta').map((r) => r.id);

      // The worker (a real process behind the real sshd) finishes while the engine cannot see it.
      await waitFor('the worker on beta to finish', () => !isAlive(victim.worker_pid!), 60_000);
      const during = taskRows(project.db).find((r) => r.id === victim.id);
      // Not judged while out of sight: still working on beta, same worker, first attempt.
      expect(during).toEqual(expect.objectContaining({ status: 'working', host: 'beta', attempt: 0, worker_pid: victim.worker_pid }));
      // No task was given to beta while it was unreachable.
      expect(taskRows(project.db).filter((r) => r.host === 'beta').map((r) => r.id)).toEqual(onBetaDuring);
      expect(hostState(project.db, 'beta')?.capacity).toBe(0);

      proxy.heal();
      const code = await child.exited;
      expect(code, child.output()).toBe(0);
    } finally {
      proxy.heal();
      child.kill('SIGKILL');
    }
    const rows = taskRows(project.db);
    expect(rows.map((r) => r.status)).toEqual(['merged', 'merged', 'merged', 'merged']);
    expect(rows.map((r) => r.attempt)).toEqual([0, 0, 0, 0]); // nothing dispatched twice
    expect(query(project.db, `SELECT * FROM event WHERE kind IN ('task.reaped', 'reaper.reaped')`)).toEqual([]);
    expect(query(project.db, `SELECT * FROM event WHERE actor = 'host:beta' AND kind = 'host.unreachable'`).length).toBeGreaterThanOrEqual(1);
    for (const id of onBetaDuring) expect(rows.find((r) => r.id === id)?.host).toBe('beta');
  });
});
