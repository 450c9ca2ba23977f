/**
 * Hosts heal fast (real sshd behind a blackhole relay): after a partition heals, the next probe really
 * connects instead of answering from the pool's cached connect error, and a daemon at the default probe
 * interval (15 s) gives the host its slots back within one interval; meanwhile `oxi status` says why the
 * host has none.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SshHost } from '../../../../actors/hosts/ssh/ssh-host.js';
import { startBlackholeProxy } from '../../../helpers/blackhole-proxy.js';
import { oxiAsync, spawnOxi, waitFor } from '../../../helpers/project.js';
import { startSshd } from '../../../helpers/sshd.js';
import { twoHostProject } from '../../../helpers/two-hosts.js';
import { failOnUnhandledRejections } from '../../../helpers/unhandled.js';

failOnUnhandledRejections();

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a host after a partition heals', () => {
  it('the probe dials for real: no cached connect error, even with the pool backing off for a minute', async () => {
    const sshd = await startSshd();
    cleanups.push(() => sshd.cleanup());
    const proxy = await startBlackholeProxy(sshd.port);
    cleanups.push(async () => (proxy.heal(), await proxy.close()));
    const [type, key] = sshd.hostKey.split(' ');
    const knownHosts = `${sshd.knownHosts}.proxy`;
    writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${type} ${key}\n`);
    const host = new SshHost({
      name: 'far', address: '127.0.0.1', port: proxy.port, user: sshd.user, identityFile: sshd.identityFile, knownHosts,
      keepaliveIntervalMs: 400, keepaliveCountMax: 3, readyTimeoutMs: 5000, backoffBaseMs: 60_000, backoffMaxMs: 60_000,
    });
    cleanups.push(() => host.close());
    expect((await host.probe()).cpus).toBeGreaterThan(0);

    proxy.partition();
    // Keepalive drops the old connection; the new one hangs in the relay until the handshake bound.
    await expect(waitFor('the probe to fail', async () => (await host.probe().then(() => false, () => true)), 60_000, 200)).resolves.toBe(true);
    // Once a connect has failed, other commands answer from the pool's backoff for a minute: no dial at all.
    const cached = await waitFor('a command answered from the cached connect error', async () => {
      const error = await host.exec(['true']).then(() => undefined, (e: Error) => e.message);
      return error && /next try in \d+ s/.test(error) ? error : undefined;
    }, 60_000, 100);
    expect(cached).toMatch(/handshake/);

    proxy.heal();
    const healedAt = Date.now();
    const probe = await host.probe();
    const ms = Date.now() - healedAt;
    expect(probe.cpus).toBeGreaterThan(0);
    // Well inside the pool's 60 s backoff: the probe did not wait for it.
    expect(ms).toBeLessThan(30_000);
    console.log(`[measured] first probe after the heal answered in ${ms} ms (pool backoff was 60 s)`);
  });

  it('at the default probe interval a daemon gives the host its slots back within one interval; status says why it had none', async () => {
    const setup = await twoHostProject({
      tasks: 1,
      script: (s) => {
        for (const t of Object.values(s.tasks)) Object.assign(t, { behaviour: 'slow', delayMs: 600_000 });
      },
      engine: { hostProbeIntervalMs: 15_000 },
    });
    cleanups.push(() => setup.cleanup());
    const { project, hosts } = setup;
    const proxy = await startBlackholeProxy(hosts.beta.port);
    cleanups.push(async () => (proxy.heal(), await proxy.close()));
    const knownHosts = join(hosts.beta.dir, 'known_hosts.relay');
    writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${hosts.beta.hostKey}\n`);
    const config = JSON.parse(readFileSync(project.configPath, 'utf8'));
    Object.assign(config.hosts.find((h: { name: string }) => h.name === 'beta'), { port: proxy.port, knownHosts, connection: { keepaliveIntervalMs: 2000, keepaliveCountMax: 3, connectTimeoutMs: 10_000, commandTimeoutMs: 10_000 } });
    writeFileSync(project.configPath, JSON.stringify(config, null, 2));
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'beta through the relay'], { cwd: project.dir });

    const d = spawnOxi(['run', '--no-dashboard'], project.dir);
    cleanups.push(async () => {
      if (d.exitCode === null) (d.kill('SIGKILL'), await d.exited);
    });
    type HostView = { name: string; capacity: number; state?: string; lastError?: string | null };
    // Why async: the relay runs in this process, and a synchronous CLI call would stop it forwarding the daemon's handshakes.
    const beta = async () => (JSON.parse((await oxiAsync(['status', '--json'], { cwd: project.dir })).stdout).hosts as HostView[]).find((h) => h.name === 'beta');
    // On a timeout, say what the host looked like and what the daemon said: a bare timeout hides why.
    const explain = async (e: Error): Promise<never> => {
      const seen = await beta().catch((x: Error) => x.message);
      throw new Error(`${e.message}; beta: ${JSON.stringify(seen)}; daemon (exit ${d.exitCode}) said:\n${d.output().slice(-4000)}`);
    };
    await waitFor('beta up', async () => ((await beta())?.capacity ?? 0) > 0, 240_000, 500).catch(explain);

    proxy.partition();
    const down = await waitFor('beta seen unreachable, with why', async () => {
      const b = await beta();
      return b && b.capacity === 0 && b.lastError ? b : undefined;
    }, 120_000, 500).catch(explain);
    expect(down.lastError).toMatch(/HostUnreachableError|RemoteChannelError/);
    // No slots while unreachable; the one task may be running there (in use 1).
    expect((await oxiAsync(['status'], { cwd: project.dir })).stdout).toMatch(/beta \d+\/0 (unreachable|connecting) — \w+Error: /);

    proxy.heal();
    const healedAt = Date.now();
    const up = await waitFor('beta back with slots', async () => {
      const b = await beta();
      return b && b.capacity > 0 ? b : undefined;
    }, 120_000, 200).catch(explain);
    const ms = Date.now() - healedAt;
    expect(up.lastError).toBeNull();
    // One probe interval (15 s) until the next probe, plus the probe itself (its connect and its command, each bounded at 10 s).
    expect(ms).toBeLessThan(15_000 + 20_000);
    console.log(`[measured] slots back ${ms} ms after the heal at the default 15 s probe interval`);
    d.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  }, 900_000);
});
