import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EffectDeps } from '../../../../actors/effects/deps.js';
import { makeReapScan } from '../../../../actors/effects/background.js';
import { sshHostFromConfig } from '../../../../actors/hosts/ssh/from-adapter.js';
import type { SshHost } from '../../../../actors/hosts/ssh/ssh-host.js';
import { ManualClock } from '../../../../src/clock.js';
import type { SshHostConfig } from '../../../../src/config/schema.js';
import { validateConfig } from '../../../../src/config/validate.js';
import { DispatchPool } from '../../../../src/dispatch/pool.js';
import { openDb, type Db } from '../../../../src/store/db.js';
import { ingestItems, recordWorker } from '../../../../src/store/tasks.js';
import { startSshd, type TestSshd } from '../../../helpers/sshd.js';

let sshd: TestSshd;
let host: SshHost;
let db: Db;
let dir: string;
const clock = new ManualClock(1_000_000);

function deps(): EffectDeps {
  const adapter = validateConfig({
    name: 'reap',
    hosts: [{ name: 'far', kind: 'ssh', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHosts: sshd.knownHosts, mainClone: '/srv/clone', worktreesRoot: '/srv/work' }],
    engine: { stallMs: 1000 },
  }, { configPath: join(dir, 'oxi.config.json') });
  const pool = new DispatchPool({ clock, planTierMax: 2, overlapDeferMs: 1000, openPrFiles: async () => [], budget: () => ({ exceeded: false, until: 0 }) });
  return { db, clock, adapter, pool, hosts: new Map([['far', host]]), workerStopMode: () => 'terminate' } as unknown as EffectDeps;
}

/** A task in `working` with a worker on the remote host and no progress for a minute. */
function stalledTask(id: string, pid: number) {
  ingestItems(db, [{ id, repo: 'reap', tier: 0, title: id, description: '', seq: 0 }], clock.now() - 60_000);
  db.prepare(`UPDATE tasks SET status = 'working', last_progress_at = ? WHERE id = ?`).run(clock.now() - 60_000, id);
  recordWorker(db, id, pid, 'far', clock.now() - 60_000);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oxi-reap-'));
  db = openDb(join(dir, 'oxi.db'));
  sshd = await startSshd();
  host = sshHostFromConfig(deps().adapter.hosts[0] as SshHostConfig, { backoffBaseMs: 50, backoffMaxMs: 100 });
});
afterAll(async () => {
  await host?.close();
  await sshd?.cleanup();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reaper liveness over SSH', () => {
  it('reaps a worker killed on the remote host, never a live slow one, and nothing while the host is out of reach', async () => {
    const spawn = (id: string) => host.spawnDetached(['sleep', '60'], { cwd: dir, stdoutFile: join(dir, `${id}.out`), stderrFile: join(dir, `${id}.err`) });
    const slow = await spawn('T1');
    const killed = await spawn('T2');
    stalledTask('T1', slow.pid);
    stalledTask('T2', killed.pid);
    await host.exec(['kill', '-s', 'KILL', '--', `-${killed.pid}`]);

    const reapScan = makeReapScan();
    expect((await reapScan(deps())).reap).toEqual([]); // first strike: seen dead once
    const scan = await reapScan(deps());
    expect(scan.reap.map((r) => r.taskId)).toEqual(['T2']);
    expect(scan.reap[0].reason).toContain(`worker ${killed.pid} is not running`);
    expect(await host.isAlive(slow.pid)).toBe(true);

    await sshd.stop();
    const blind = await reapScan(deps());
    expect(blind.reap).toEqual([]);
    expect((blind.ledger ?? []).map((l) => l.kind)).toEqual(['reaper.host_unreachable', 'reaper.host_unreachable']);
    expect((await reapScan(deps())).ledger).toEqual([]); // an outage is logged once, not once per scan
    await sshd.start();
    await new Promise((r) => setTimeout(r, 200));
    expect((await reapScan(deps())).reap).toEqual([]); // back: the strikes start over
    expect((await reapScan(deps())).reap.map((r) => r.taskId)).toEqual(['T2']);
    await host.killGroup(slow.pid, 500);
  });
});
