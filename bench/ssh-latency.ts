/**
 * SSH latencies against a real local sshd: `npm run build && node dist/bench/ssh-latency.js [--json]`.
 * connect = handshake + first command on a fresh transport; exec = one command on a warm connection;
 * dispatch = spawnDetached of a worker (setsid, pid back); alive = one isAlive probe. Medians; never asserted.
 */
import { performance } from 'node:perf_hooks';
import { SshHost } from '../actors/hosts/ssh/ssh-host.js';
import { startSshd } from '../test/helpers/sshd.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n: number) => Math.round(n * 10) / 10;

const sshd = await startSshd();
const make = () => new SshHost({ name: 'bench', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHosts: sshd.knownHosts });
const figures: Record<string, number> = {};
try {
  const connect: number[] = [];
  for (let i = 0; i < 10; i++) {
    const h = make();
    const t = performance.now();
    await h.exec(['true']);
    connect.push(performance.now() - t);
    await h.close();
  }
  const host = make();
  await host.exec(['true']);
  const exec: number[] = [];
  const dispatch: number[] = [];
  const alive: number[] = [];
  for (let i = 0; i < 20; i++) {
    let t = performance.now();
    await host.exec(['true']);
    exec.push(performance.now() - t);
    t = performance.now();
    const { pid } = await host.spawnDetached(['sleep', '5'], { cwd: sshd.dir, stdoutFile: `${sshd.dir}/w${i}.out`, stderrFile: `${sshd.dir}/w${i}.err` });
    dispatch.push(performance.now() - t);
    t = performance.now();
    await host.isAlive(pid);
    alive.push(performance.now() - t);
    await host.killGroup(pid, 500);
  }
  await host.close();
  Object.assign(figures, { connectMs: round(median(connect)), execMs: round(median(exec)), dispatchMs: round(median(dispatch)), aliveMs: round(median(alive)) });
} finally {
  await sshd.cleanup();
}
if (process.argv.includes('--json')) console.log(JSON.stringify(figures));
else for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(12)} ${v} ms (median)`);
