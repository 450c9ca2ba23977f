import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshHost } from '../../../../actors/hosts/ssh/ssh-host.js';
import { HostUnreachableError } from '../../../../src/errors.js';
import { startBlackholeProxy, type BlackholeProxy } from '../../../helpers/blackhole-proxy.js';
import { waitFor } from '../../../helpers/project.js';
import { startSshd, type TestSshd } from '../../../helpers/sshd.js';

let sshd: TestSshd;
let proxy: BlackholeProxy;

beforeAll(async () => {
  sshd = await startSshd();
  proxy = await startBlackholeProxy(sshd.port);
});
afterAll(async () => {
  await proxy?.close();
  await sshd?.cleanup();
});

/** A host reached through the relay, with known_hosts naming the relay's port (the key is sshd's). */
function hostThroughProxy(): SshHost {
  const [type, key] = sshd.hostKey.split(' ');
  const knownHosts = `${sshd.knownHosts}.proxy`;
  writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${type} ${key}\n`);
  return new SshHost({
    name: 'far', address: '127.0.0.1', port: proxy.port, user: sshd.user, identityFile: sshd.identityFile, knownHosts,
    keepaliveIntervalMs: 400, keepaliveCountMax: 3, readyTimeoutMs: 3000, backoffBaseMs: 50, backoffMaxMs: 200,
  });
}

describe('the blackhole relay itself', () => {
  it('forwards, then goes silent both ways without closing anything, then delivers what was held', async () => {
    const upstreamSeen: string[] = [];
    const upstreamSockets: Socket[] = [];
    let upstreamClosed = false;
    const echo = createServer((s) => {
      upstreamSockets.push(s);
      s.on('data', (d) => (upstreamSeen.push(String(d)), s.write(`echo:${d}`)));
      s.on('close', () => (upstreamClosed = true));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const relay = await startBlackholeProxy((echo.address() as { port: number }).port);
    const client = connect({ host: '127.0.0.1', port: relay.port });
    const got: string[] = [];
    let clientClosed = false;
    client.on('data', (d) => got.push(String(d)));
    client.on('close', () => (clientClosed = true));
    try {
      client.write('a');
      await waitFor('the echo', () => got.join('') === 'echo:a', 10_000, 50);
      relay.partition();
      client.write('b');
      upstreamSockets[0].write('from-upstream');
      // Both writes are accepted; an absence cannot be awaited, so give a leak through the relay time to show.
      await new Promise((r) => setTimeout(r, 100));
      expect(upstreamSeen).toEqual(['a']);
      expect(got.join('')).toBe('echo:a');
      expect([clientClosed, upstreamClosed, relay.connections()]).toEqual([false, false, 1]);
      relay.heal();
      await waitFor('the held bytes', () => got.join('').includes('from-upstream') && got.join('').includes('echo:b'), 10_000, 50);
      expect(upstreamSeen.join('')).toBe('ab');
    } finally {
      client.destroy();
      await relay.close();
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });
});

describe('a silent partition (no RST, no FIN) between the engine and a real sshd', () => {
  it('is detected by keepalive under a running exec; the pool drops the connection and reconnects after the heal', async () => {
    const host = hostThroughProxy();
    // A duration no other process uses, to find this very sleep on the host.
    const marker = `sleep 30.${process.pid}${Date.now() % 1000}`;
    try {
      expect((await host.exec(['true'])).exitCode).toBe(0);
      const running = host.exec(marker.split(' ')).then(
        (r) => r,
        (e: unknown) => e,
      );
      // The command runs on the host before the link goes silent.
      await waitFor('the remote sleep', () => remotePids(marker).length > 0, 60_000, 50);
      expect(host.pool.stats().channels).toEqual([1]);
      proxy.partition();

      const error = (await running) as HostUnreachableError;
      expect(error).toBeInstanceOf(HostUnreachableError);
      expect(error.message).toMatch(/Lost the connection to .*127\.0\.0\.1.*no answer to 3 keepalives sent every 400 ms/);
      expect(error.fix).toMatch(/keepaliveIntervalMs/);
      // Neither side saw a close: the relay still holds the connection, the remote command runs on.
      expect(proxy.connections()).toBeGreaterThanOrEqual(1);
      expect(remotePids(marker).length).toBeGreaterThan(0);
      // The pool marked the connection dead: nothing open, no channel counted.
      expect(host.pool.stats()).toEqual({ connections: 0, channels: [] });

      // While partitioned a new connection cannot complete its handshake: bounded by readyTimeoutMs.
      const during = await host.exec(['true']).catch((e: unknown) => e);
      expect(during).toBeInstanceOf(HostUnreachableError);
      expect((during as Error).message).toMatch(/handshake/);
      expect(host.pool.stats().connections).toBe(0);

      proxy.heal();
      const back = await waitFor('a reconnect after the heal', () => host.exec(['echo', 'back']).then((r) => r.stdout, () => undefined), 20_000, 50);
      expect(back).toBe('back\n');
      expect(host.pool.stats()).toEqual({ connections: 1, channels: [0] });
    } finally {
      proxy.heal();
      await host.close();
      for (const pid of remotePids(marker)) process.kill(pid, 'SIGKILL');
    }
  });

  it('makes the probe fail as unreachable during the partition, and answer again after the heal', async () => {
    const host = hostThroughProxy();
    try {
      expect((await host.probe()).cpus).toBeGreaterThanOrEqual(1);
      proxy.partition();
      const error = await host.probe().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HostUnreachableError);
      // isAlive cannot see the worker: it throws (unknown), it never answers "dead".
      await expect(host.isAlive(process.pid)).rejects.toBeInstanceOf(HostUnreachableError);
      proxy.heal();
      const p = await waitFor('a probe after the heal', () => host.probe().catch(() => undefined), 20_000, 50);
      expect(p.cpus).toBeGreaterThanOrEqual(1);
    } finally {
      proxy.heal();
      await host.close();
    }
  });
});

/** The pids whose command line is `marker` (the host is this machine, reached over loopback); /proc, so no procps needed. */
function remotePids(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() === marker) pids.push(Number(entry));
    } catch {
      // gone between the listing and the read
    }
  }
  return pids;
}
