/**
 * Kills are durable and never crash the daemon (real sshd: alpha direct, beta behind a blackhole relay).
 * With a worker running on each host and beta silently partitioned:
 * - `oxi kill --hard`: the daemon lives on, alpha's agent is terminated at once, beta's group is recorded
 *   in `kill_group` and terminated when the partition heals (the record is then cleared);
 * - SIGTERM: the daemon drains and exits 0 (no crash), alpha's agent is terminated, beta's group stays
 *   recorded, and the next start terminates it once beta answers.
 * No promise rejection goes unhandled meanwhile: the daemon records any as `engine.unhandled_rejection`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBlackholeProxy, type BlackholeProxy } from '../../../helpers/blackhole-proxy.js';
import { isAlive, oxi, query, spawnDaemon, waitFor } from '../../../helpers/project.js';
import { twoHostProject, type TwoHosts } from '../../../helpers/two-hosts.js';
import { failOnUnhandledRejections } from '../../../helpers/unhandled.js';

failOnUnhandledRejections();

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Row { id: string; status: string; host: string | null; worker_pid: number | null }
interface KillGroup { host: string; pid: number; task: string | null; reason: string; tries: number; last_error: string | null }

async function bed(): Promise<{ setup: TwoHosts; proxy: BlackholeProxy }> {
  // Workers that run long enough to be killed; alpha has 1 slot, beta 2.
  const setup = await twoHostProject({
    tasks: 3,
    script: (s) => {
      for (const t of Object.values(s.tasks)) Object.assign(t, { behaviour: 'slow', delayMs: 600_000 });
    },
    engine: { drainTimeoutMs: 1000, hostProbeIntervalMs: 2000 },
  });
  cleanups.push(() => setup.cleanup());
  const proxy = await startBlackholeProxy(setup.hosts.beta.port);
  cleanups.push(async () => (proxy.heal(), await proxy.close()));
  const knownHosts = join(setup.hosts.beta.dir, 'known_hosts.relay');
  writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${setup.hosts.beta.hostKey}\n`);
  const config = JSON.parse(readFileSync(setup.project.configPath, 'utf8'));
  const beta = config.hosts.find((h: { name: string }) => h.name === 'beta');
  Object.assign(beta, { port: proxy.port, knownHosts, connection: { keepaliveIntervalMs: 2000, keepaliveCountMax: 3, connectTimeoutMs: 20_000, commandTimeoutMs: 20_000 } });
  writeFileSync(setup.project.configPath, JSON.stringify(config, null, 2));
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'beta through the relay'], { cwd: setup.project.dir });
  return { setup, proxy };
}

const daemon = (dir: string) => spawnDaemon(dir, cleanups);

/** A worker running on each host. */
async function workersOnBothHosts(db: string): Promise<{ alpha: Row; beta: Row }> {
  return waitFor('a worker on alpha and one on beta', () => {
    const rows = query<Row>(db, `SELECT id, status, host, worker_pid FROM tasks WHERE status = 'working' AND worker_pid IS NOT NULL`);
    const alpha = rows.find((r) => r.host === 'alpha' && isAlive(r.worker_pid!));
    const beta = rows.find((r) => r.host === 'beta' && isAlive(r.worker_pid!));
    return alpha && beta ? { alpha, beta } : undefined;
  }, 400_000);
}

const killGroups = (db: string) => query<KillGroup>(db, 'SELECT host, pid, task, reason, tries, last_error FROM kill_group ORDER BY host, pid');
const unhandled = (db: string) => query(db, `SELECT payload FROM event WHERE kind = 'engine.unhandled_rejection'`);

describe('hard kill and SIGTERM while one SSH host is partitioned', () => {
  it('oxi kill --hard: no crash, alpha terminated at once, beta recorded and terminated when the partition heals', async () => {
    const { setup, proxy } = await bed();
    const { project } = setup;
    const d = daemon(project.dir);
    const { alpha, beta } = await workersOnBothHosts(project.db).catch((e) => {
      throw new Error(`${e.message}\n${JSON.stringify(query(project.db, 'SELECT id, status, host, worker_pid, reason FROM tasks'))}\n${d.output().slice(-3000)}\n${oxi(['status', '--json'], { cwd: project.dir }).stdout}`);
    });
    proxy.partition();

    const killedAt = Date.now();
    expect(oxi(['kill', '--hard', '--reason', 'partition drill'], { cwd: project.dir }).code).toBe(0);
    await waitFor('alpha\'s agent terminated', () => !isAlive(alpha.worker_pid!), 30_000, 50);
    const alphaGoneMs = Date.now() - killedAt;
    // beta cannot be reached: its group is recorded, with why it is still there, and it runs on.
    const recorded = await waitFor('beta\'s group recorded with its failure', () => killGroups(project.db).find((g) => g.host === 'beta' && g.tries > 0), 60_000);
    expect(recorded).toMatchObject({ pid: beta.worker_pid, task: beta.id, reason: 'hard kill' });
    // alpha's row is cleared once its kill returned (the group gone).
    await waitFor('alpha\'s record cleared', () => killGroups(project.db).map((g) => g.host).join() === 'beta', 60_000);
    expect(isAlive(beta.worker_pid!)).toBe(true);
    expect(d.exitCode).toBeNull(); // the daemon lives on

    proxy.heal();
    const healedAt = Date.now();
    await waitFor('beta\'s agent terminated after the heal', () => !isAlive(beta.worker_pid!), 60_000, 50);
    const betaGoneMs = Date.now() - healedAt;
    await waitFor('the record cleared', () => killGroups(project.db).length === 0, 30_000);
    expect(d.exitCode).toBeNull();
    expect(unhandled(project.db)).toEqual([]);
    expect(d.output()).not.toMatch(/unhandled promise rejection/);
    console.log(`[measured] hard kill: alpha's agent gone ${alphaGoneMs} ms after oxi kill; beta's ${betaGoneMs} ms after the heal`);
    d.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  }, 900_000);

  it('SIGTERM: drains and exits 0, alpha terminated, beta recorded and terminated by the next start once it answers', async () => {
    const { setup, proxy } = await bed();
    const { project } = setup;
    const first = daemon(project.dir);
    const { alpha, beta } = await workersOnBothHosts(project.db);
    proxy.partition();
    first.kill('SIGTERM');
    expect(await first.exited, first.output()).toBe(0);
    expect(isAlive(alpha.worker_pid!)).toBe(false);
    expect(killGroups(project.db)).toEqual([expect.objectContaining({ host: 'beta', pid: beta.worker_pid, task: beta.id, reason: 'drain' })]);
    expect(isAlive(beta.worker_pid!)).toBe(true);
    expect(unhandled(project.db)).toEqual([]);

    proxy.heal();
    // Nobody runs, so nothing kills it yet; the next start does, before anything is relaunched there.
    const second = daemon(project.dir);
    await waitFor('beta\'s agent terminated by the next start', () => !isAlive(beta.worker_pid!), 60_000, 50);
    await waitFor('the record cleared', () => killGroups(project.db).length === 0, 30_000);
    expect(second.output()).toMatch(/recorded process group\(s\) still to terminate/);
    expect(unhandled(project.db)).toEqual([]);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 900_000);
});
