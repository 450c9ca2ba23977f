/**
 * The sandbox on an SSH host (real sshd on loopback): probed on the host, the same bwrap argv built from
 * facts gathered there, and a detached worker started through the SSH transport confined by it.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostSandbox } from '../../../actors/sandbox/sandbox.js';
import { SshHost } from '../../../actors/hosts/ssh/ssh-host.js';
import { waitFor } from '../../helpers/project.js';
import { startSshd, type TestSshd } from '../../helpers/sshd.js';

let sshd: TestSshd;
let host: SshHost;

beforeAll(async () => {
  sshd = await startSshd();
  host = new SshHost({ name: 'remote', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHosts: sshd.knownHosts });
});
afterAll(async () => {
  await host?.close();
  await sshd?.cleanup();
});

describe('the sandbox on an SSH host', () => {
  it('probes bwrap on the host once, and a worker started over SSH writes only its workspace', async () => {
    const work = join(sshd.dir, 'work');
    const ws = join(work, 'p-default', 'T1');
    const other = join(work, 'p-default', 'T2');
    const clone = join(sshd.dir, 'clone');
    for (const d of [ws, other, clone]) mkdirSync(d, { recursive: true });
    writeFileSync(join(other, 'secret.txt'), 'other-task-secret');
    writeFileSync(join(clone, 'README.md'), 'main clone\n');
    const settings = { mode: 'auto' as const, required: true, network: 'open' as const, writable: [] };
    const sandbox = new HostSandbox(host, settings, [clone, work, `${work}/.oxi-logs`]);
    expect(await sandbox.status()).toMatchObject({ kind: 'bubblewrap', available: true });

    const attack = `echo mine > mine.txt; cat '${join(other, 'secret.txt')}'; echo pwned > '${join(clone, 'README.md')}'; echo pwned > '${join(other, 'evil.txt')}'; echo done`;
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root' };
    const { argv } = await sandbox.wrap({ role: 'worker', backend: 'scripted', argv: ['sh', '-c', attack], env, workspace: ws, writable: true, waited: false });
    expect(argv[0]).toMatch(/bwrap$/);
    const logs = join(work, '.oxi-logs', 'p-default', 'T1');
    const { pid } = await host.spawnDetached(argv, { cwd: ws, env, stdoutFile: `${logs}/w.ndjson`, stderrFile: `${logs}/w.stderr.log` });
    await waitFor('the remote worker ended', async () => !(await host.isAlive(pid)), 20_000, 50);
    expect(readFileSync(`${logs}/w.ndjson`, 'utf8')).toBe('done\n');
    expect(readFileSync(join(ws, 'mine.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(clone, 'README.md'), 'utf8')).toBe('main clone\n');
    expect(existsSync(join(other, 'evil.txt'))).toBe(false);
  });
});
