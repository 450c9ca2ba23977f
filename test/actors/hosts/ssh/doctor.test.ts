import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oxi, sampleProject } from '../../../helpers/project.js';
import { startSshd, type TestSshd } from '../../../helpers/sshd.js';

let good: TestSshd;
let rekeyed: TestSshd;
let project: ReturnType<typeof sampleProject>;

beforeAll(async () => {
  good = await startSshd();
  rekeyed = await startSshd();
  const stale = readFileSync(rekeyed.knownHosts, 'utf8');
  await rekeyed.stop();
  rekeyed.rekey();
  await rekeyed.start();
  writeFileSync(rekeyed.knownHosts, stale); // known_hosts still holds the old key
  const ssh = (name: string, s: TestSshd, port = s.port) => ({
    name, kind: 'ssh', address: '127.0.0.1', port, user: s.user, identityFile: s.identityFile, knownHosts: s.knownHosts,
    mainClone: join(s.dir, 'clone'), worktreesRoot: join(s.dir, 'work'),
  });
  project = sampleProject({
    tasks: 1,
    config: (c) => {
      c.hosts = [{ name: 'local', kind: 'local' }, ssh('good', good), ssh('rekeyed', rekeyed), ssh('down', good, 1)];
    },
  });
  execFileSync('git', ['clone', '-q', project.dir, join(good.dir, 'clone')]);
});
afterAll(async () => {
  await good?.cleanup();
  await rekeyed?.cleanup();
  project?.cleanup();
});

describe('oxi doctor', () => {
  it('checks each host: reachable, host key, git, agent CLI, credentials, clone — and exits 1 when one fails', () => {
    const res = oxi(['--config', project.configPath, 'doctor', '--json']);
    expect(res.code, res.stderr).toBe(1);
    const out = JSON.parse(res.stdout);
    expect(out.ok).toBe(false);
    const by = Object.fromEntries(out.hosts.map((h: { host: string }) => [h.host, h]));
    const statuses = (h: { checks: Array<{ name: string; status: string }> }) => Object.fromEntries(h.checks.map((c) => [c.name, c.status]));
    expect(statuses(by.local)).toEqual({ reachable: 'ok', git: 'ok', agent_cli: 'ok', credentials: 'ok', sandbox: 'ok' });
    expect(statuses(by.good)).toEqual({ reachable: 'ok', host_key: 'ok', git: 'ok', agent_cli: 'ok', credentials: 'ok', main_clone: 'ok', sandbox: 'ok', network: 'warn' });
    // Probed on the host itself: agents there will run under its bwrap.
    expect(by.good.checks.find((c: { name: string }) => c.name === 'sandbox').detail).toMatch(/^agents are sandboxed \(bubblewrap: bubblewrap \d/);
    expect(by.good.ok).toBe(true);
    expect(by.good.latencyMs).toBeGreaterThanOrEqual(0);
    expect(statuses(by.rekeyed)).toEqual({ reachable: 'ok', host_key: 'fail', git: 'skip', agent_cli: 'skip', credentials: 'skip', main_clone: 'skip', sandbox: 'skip', network: 'skip' });
    expect(by.rekeyed.checks[1].detail).toMatch(/presented a different one/);
    expect(statuses(by.down).reachable).toBe('fail');
    expect(by.down.checks[0].fix).toContain('sshd listens on port 1');
  });

  it('prints a readable report without --json', () => {
    const res = oxi(['--config', project.configPath, 'doctor']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/ok\s+host:good:host_key\s+good \(ssh\)/);
    expect(res.stdout).toMatch(/fail\s+host:rekeyed:host_key/);
  });
});
