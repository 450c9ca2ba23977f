import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EffectDeps } from '../../../../actors/effects/deps.js';
import { makeReapScan } from '../../../../actors/effects/background.js';
import { SshHost } from '../../../../actors/hosts/ssh/ssh-host.js';
import { ManualClock } from '../../../../src/clock.js';
import { validateConfig } from '../../../../src/config/validate.js';
import { HostKeyError, HostUnreachableError, RemoteChannelError } from '../../../../src/errors.js';
import { DispatchPool } from '../../../../src/dispatch/pool.js';
import { openDb, type Db } from '../../../../src/store/db.js';
import { ingestItems, recordWorker } from '../../../../src/store/tasks.js';
import { PARTIAL_STDOUT, startFaultySshServer, type Fault, type FaultySshServer } from '../../../helpers/faulty-ssh-server.js';
import { waitFor } from '../../../helpers/project.js';

let server: FaultySshServer;
let db: Db;
let dir: string;
const clock = new ManualClock(1_000_000);
const opened: SshHost[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oxi-ssh-faults-'));
  db = openDb(join(dir, 'oxi.db'));
  server = await startFaultySshServer();
});
afterAll(async () => {
  for (const h of opened) await h.close();
  await server?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

type HostOptions = Partial<ConstructorParameters<typeof SshHost>[0]>;

/** Bounds a loaded machine keeps within; a fault that is only ended by a bound gets a short one of its own (Case.bounds). */
function hostFor(extra: HostOptions = {}): SshHost {
  const h = new SshHost({
    name: 'odd', address: '127.0.0.1', port: server.port, user: server.user, identityFile: server.identityFile, knownHosts: server.knownHosts,
    readyTimeoutMs: 10_000, commandTimeoutMs: 10_000, execTimeoutMs: 10_000, keepaliveIntervalMs: 1000, keepaliveCountMax: 3, backoffBaseMs: 0, backoffMaxMs: 0,
    ...extra,
  });
  opened.push(h);
  return h;
}

const channelsOpen = (h: SshHost) => h.pool.stats().channels.reduce((n, c) => n + c, 0);

/** The reaper's view of a stalled task whose worker runs on the faulty host. */
function reaperDeps(host: SshHost): EffectDeps {
  const adapter = validateConfig({
    name: 'faults',
    hosts: [{ name: 'odd', kind: 'ssh', address: '127.0.0.1', port: server.port, user: server.user, identityFile: server.identityFile, knownHosts: server.knownHosts, mainClone: '/srv/clone', worktreesRoot: '/srv/work' }],
    engine: { stallMs: 1000 },
  }, { configPath: join(dir, 'oxi.config.json') });
  const pool = new DispatchPool({ clock, planTierMax: 2, overlapDeferMs: 1000, openPrFiles: async () => [], budget: () => ({ exceeded: false, until: 0 }) });
  return { db, clock, adapter, pool, hosts: new Map([['odd', host]]), workerStopMode: () => 'terminate' } as unknown as EffectDeps;
}

function stalledTask(id: string, pid: number): void {
  ingestItems(db, [{ id, repo: 'faults', tier: 0, title: id, description: '', seq: 0 }], clock.now() - 60_000);
  db.prepare(`UPDATE tasks SET status = 'working', last_progress_at = ? WHERE id = ?`).run(clock.now() - 60_000, id);
  recordWorker(db, id, pid, 'odd', clock.now() - 60_000);
}

interface Case {
  name: string;
  fault: Fault;
  knownHosts?: 'wrong';
  error: typeof HostUnreachableError;
  message: RegExp;
  fix: RegExp;
  /** Short bounds for a fault that only a bound ends (a server that never answers). */
  bounds?: HostOptions;
}

const cases: Case[] = [
  { name: 'refuse-channel', fault: 'refuse-channel', error: RemoteChannelError, message: /Expected oxi@127\.0\.0\.1:\d+ \(host "odd"\) to open a session channel; it refused/, fix: /MaxSessions/ },
  { name: 'refuse-exec', fault: 'refuse-exec', error: RemoteChannelError, message: /to run a command on an open session channel; it refused the exec request \(Unable to exec\) for `echo`/, fix: /ForceCommand/ },
  { name: 'no-exit-status', fault: 'no-exit-status', error: RemoteChannelError, message: new RegExp(`Expected an exit status from .* for \`echo\`; the channel closed without one \\(after ${PARTIAL_STDOUT.length} bytes of output\\)`), fix: /sshd logs/ },
  { name: 'silent-channel', fault: 'silent-channel', error: RemoteChannelError, message: /to finish `echo` within 1500 ms; no exit status came/, fix: /execTimeoutMs/, bounds: { execTimeoutMs: 1500, commandTimeoutMs: 1500 } },
  { name: 'drop-mid-stdout', fault: 'drop-mid-stdout', error: HostUnreachableError, message: /Lost the connection to oxi@127\.0\.0\.1:\d+ \(host "odd"\)/, fix: /reconnects/ },
  { name: 'wrong host key', fault: 'none', knownHosts: 'wrong', error: HostKeyError, message: /to present the key recorded in .*known_hosts\.wrong .*it presented a different one: ssh-ed25519 SHA256:/, fix: /ssh-keygen -R/ },
  { name: 'slow-banner', fault: 'slow-banner', error: HostUnreachableError, message: /Expected oxi@127\.0\.0\.1:\d+ \(host "odd"\) to complete the SSH handshake within 1500 ms; it did not answer in time/, fix: /connectTimeoutMs/, bounds: { readyTimeoutMs: 1500 } },
];

describe('an SSH server that misbehaves (ssh2 Server fixture)', () => {
  it('runs commands normally when it behaves (the fixture itself works)', async () => {
    server.fault = 'none';
    const h = hostFor();
    expect(await h.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(await h.isAlive(process.pid)).toBe(true);
    expect(channelsOpen(h)).toBe(0);
  });

  describe.each(cases)('$name', (c) => {
    it('becomes the named error with what was expected, what came and the fix; no channel is left counted', async () => {
      server.fault = c.fault;
      const h = hostFor({ ...c.bounds, ...(c.knownHosts ? { knownHosts: server.wrongKnownHosts } : {}) });
      const error = await h.exec(['echo', 'hi']).then(
        (r) => new Error(`expected a failure, got ${JSON.stringify(r)}`),
        (e: Error) => e,
      );
      expect(error).toBeInstanceOf(c.error);
      expect(error.message).toMatch(c.message);
      expect((error as HostUnreachableError).fix).toMatch(c.fix);
      expect(channelsOpen(h)).toBe(0);
      // Whatever happened to the command, the server is not left holding the session either.
      await waitFor('the server to drop the session', () => server.openSessions() === 0, 10_000, 25);
    });

    it('never reports a worker it cannot see as dead: isAlive throws, the reaper reaps nothing', async () => {
      server.fault = c.fault;
      const h = hostFor({ ...c.bounds, ...(c.knownHosts ? { knownHosts: server.wrongKnownHosts } : {}) });
      await expect(h.isAlive(process.pid)).rejects.toBeInstanceOf(HostUnreachableError);
      expect(channelsOpen(h)).toBe(0);
      const task = `T-${c.name.replace(/ /g, '-')}`;
      stalledTask(task, 4_000_000); // a pid that runs nowhere: a reaper that took "unknown" for "dead" would reap it
      const scan = makeReapScan();
      const deps = reaperDeps(h);
      for (let i = 0; i < 3; i++) {
        const out = await scan(deps);
        expect(out.reap.filter((r) => r.taskId === task)).toEqual([]);
        if (i === 0) expect(out.ledger?.filter((l) => (l.payload as { task: string }).task === task).map((l) => l.kind)).toEqual(['reaper.host_unreachable']);
      }
      db.prepare(`UPDATE tasks SET status = 'merged' WHERE id = ?`).run(task);
    });

    it('recovers once the server behaves again: the next command runs (a changed host key never becomes accepted)', async () => {
      server.fault = c.fault;
      const h = hostFor({ ...c.bounds, ...(c.knownHosts ? { knownHosts: server.wrongKnownHosts } : {}) });
      await expect(h.exec(['true'])).rejects.toBeInstanceOf(HostUnreachableError);
      server.fault = 'none';
      if (c.knownHosts) {
        // Nothing about the server changed: the key still differs from the one on record, so it stays refused.
        await expect(h.exec(['echo', 'back'])).rejects.toBeInstanceOf(HostKeyError);
        expect(channelsOpen(h)).toBe(0);
        return;
      }
      const r = await h.exec(['echo', 'back']);
      expect(r).toEqual({ exitCode: 0, stdout: 'back\n', stderr: '' });
      expect(channelsOpen(h)).toBe(0);
    });
  });

  it('bounds a timed exec by its own timeout plus commandTimeoutMs when the server never answers', async () => {
    server.fault = 'silent-channel';
    const h = hostFor({ commandTimeoutMs: 300, execTimeoutMs: 60_000 });
    const error = (await h.exec(['sleep', '5'], { timeoutMs: 200 }).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(RemoteChannelError);
    expect(error.message).toMatch(/to finish `sleep` within 500 ms/);
    expect((error as RemoteChannelError).fix).toMatch(/commandTimeoutMs/);
    expect(channelsOpen(h)).toBe(0);
    server.fault = 'none';
  });
});
