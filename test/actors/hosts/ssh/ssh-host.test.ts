import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshHost } from '../../../../actors/hosts/ssh/ssh-host.js';
import { HostKeyError, HostUnreachableError } from '../../../../src/errors.js';
import { startSshd, type TestSshd } from '../../../helpers/sshd.js';

let sshd: TestSshd;
let host: SshHost;

const hostFor = (s: TestSshd, extra: Partial<ConstructorParameters<typeof SshHost>[0]> = {}) =>
  new SshHost({ name: 'remote', address: '127.0.0.1', port: s.port, user: s.user, identityFile: s.identityFile, knownHosts: s.knownHosts, backoffBaseMs: 50, backoffMaxMs: 200, ...extra });

beforeAll(async () => {
  sshd = await startSshd();
  host = hostFor(sshd);
});
afterAll(async () => {
  await host?.close();
  await sshd?.cleanup();
});

describe('SshHost against a real sshd', () => {
  it('runs argv without the remote shell interpreting any word, with exit code, stdout and stderr', async () => {
    const nasty = ['a b', "it's", '$(touch /tmp/oxi-pwned)', '`id`', '*', '"q"', '\\', ';exit 9', ''];
    const r = await host.exec(['printf', '%s\\n', ...nasty]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(nasty.map((w) => `${w}\n`).join(''));
    expect(existsSync('/tmp/oxi-pwned')).toBe(false);
    const fail = await host.exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(fail).toEqual({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
    expect((await host.exec(['no-such-program-oxi'])).exitCode).toBe(127);
  });

  it('passes the whole environment inline, keeping the host\'s own PATH and HOME, and closes stdin at once', async () => {
    const r = await host.exec(['sh', '-c', 'echo "$OXI_A|$OXI_B|$SECRET_LEAK|$HOME"; cat; echo done'], {
      env: { OXI_A: "x 'y' $z", OXI_B: 'two', PATH: '/engine/only/bin', HOME: '/engine/home' },
      cwd: sshd.dir,
    });
    expect(r.exitCode).toBe(0);
    const [line, done] = r.stdout.split('\n');
    expect(line.split('|').slice(0, 3)).toEqual(["x 'y' $z", 'two', '']);
    expect(line.split('|')[3]).not.toBe('/engine/home');
    expect(done).toBe('done');
    expect((await host.exec(['pwd'], { cwd: sshd.dir })).stdout.trim()).toBe(sshd.dir);
  });

  it('kills a program that outlives its timeout on the host', async () => {
    const r = await host.exec(['sleep', '30'], { timeoutMs: 1000 });
    expect(r.exitCode).toBe(124);
    expect(r.stderr).toContain('timed out');
  });

  it('runs more concurrent commands than sshd allows sessions on one connection, by pooling connections', async () => {
    const runs = await Promise.all(Array.from({ length: 24 }, (_, i) => host.exec(['sh', '-c', `sleep 0.3; echo ${i}`])));
    expect(runs.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 24 }, (_, i) => String(i)));
    expect(host.pool.stats().connections).toBeGreaterThan(1);
  });

  it('starts a detached agent under setsid: pid recorded on the host, alive, killed as a group', async () => {
    const out = join(sshd.dir, 'logs', 'w.ndjson');
    const { pid } = await host.spawnDetached(['sh', '-c', 'echo "{\\"n\\":1}"; echo "$OXI_X" >&2; sleep 60 & sleep 60'], {
      cwd: sshd.dir, env: { OXI_X: 'inline' }, stdoutFile: out, stderrFile: join(sshd.dir, 'logs', 'w.err'),
    });
    expect(readFileSync(`${out}.pid`, 'utf8').trim()).toBe(String(pid));
    expect(await host.isAlive(pid)).toBe(true);
    const pgid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]);
    expect(pgid).toBe(pid);
    await new Promise((r) => setTimeout(r, 300));
    expect(await host.readFile(out)).toBe('{"n":1}\n');
    expect(await host.fileSize(out)).toBe(8);
    expect((await host.readFile(join(sshd.dir, 'logs', 'w.err')))?.trim()).toBe('inline');
    await host.killGroup(pid, 1000);
    expect(await host.isAlive(pid)).toBe(false);
    const members = (await host.exec(['sh', '-c', `ps -A -o pgid=,stat= | awk '$1==${pid} && $2 !~ /Z/' | wc -l`])).stdout.trim();
    expect(members).toBe('0');
  });

  it('reads, writes (atomically, creating folders) and probes', async () => {
    const file = join(sshd.dir, 'deep', 'er', 'f.txt');
    expect(await host.readFile(file)).toBeUndefined();
    expect(await host.fileSize(file)).toBeUndefined();
    await host.writeFile(file, "line 'one'\n$two\n");
    expect(readFileSync(file, 'utf8')).toBe("line 'one'\n$two\n");
    const p = await host.probe();
    expect(p.cpus).toBeGreaterThanOrEqual(1);
    expect(p.totalMemMb).toBeGreaterThan(p.freeMemMb * 0);
    expect(p.freeMemMb).toBeGreaterThan(0);
  });
});

describe('host keys and unreachable hosts', () => {
  it('refuses an unknown host key with the fingerprint and the command to add it', async () => {
    const empty = join(sshd.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const h = hostFor(sshd, { knownHosts: empty });
    const error = await h.exec(['true']).catch((e) => e);
    expect(error).toBeInstanceOf(HostKeyError);
    expect(error.message).toMatch(/not there .*ssh-ed25519 SHA256:/);
    expect(error.fix).toContain('ssh-keyscan');
    await h.close();
  });

  it('refuses a changed host key, even after the host was reachable before', async () => {
    const s = await startSshd();
    const h = hostFor(s);
    try {
      expect((await h.exec(['true'])).exitCode).toBe(0);
      await s.stop();
      s.rekey();
      await s.start();
      await new Promise((r) => setTimeout(r, 300)); // past the reconnect backoff
      const error = await h.exec(['true']).catch((e) => e);
      expect(error).toBeInstanceOf(HostKeyError);
      expect(error.message).toMatch(/presented a different one/);
      expect(error.fix).toContain('ssh-keygen -R');
    } finally {
      await h.close();
      await s.cleanup();
    }
  });

  it('reports a host that is down as unreachable, backs off, and reconnects when it is back', async () => {
    const s = await startSshd();
    const h = hostFor(s, { keepaliveIntervalMs: 200, keepaliveCountMax: 2 });
    try {
      expect((await h.exec(['true'])).exitCode).toBe(0);
      const running = h.exec(['sleep', '20']).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 200));
      await s.stop();
      expect(await running).toBeInstanceOf(HostUnreachableError);
      await expect(h.exec(['true'])).rejects.toBeInstanceOf(HostUnreachableError);
      await s.start();
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = await h.exec(['true']).then((r) => r.exitCode === 0, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok).toBe(true);
    } finally {
      await h.close();
      await s.cleanup();
    }
  });
});
