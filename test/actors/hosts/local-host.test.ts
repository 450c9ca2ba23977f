import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LocalHost } from '../../../actors/hosts/local-host.js';
import { OxiError } from '../../../src/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'oxi-localhost-'));
const host = new LocalHost();
const started: number[] = [];

afterEach(async () => {
  // Never leave a stray group behind, even when an assertion failed.
  for (const pid of started.splice(0)) await host.killGroup(pid, 0);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

async function detached(argv: string[], name: string): Promise<number> {
  const { pid } = await host.spawnDetached(argv, { cwd: tmp, stdoutFile: join(tmp, `${name}.out`), stderrFile: join(tmp, `${name}.err`) });
  started.push(pid);
  return pid;
}

/** Field 5 of /proc/<pid>/stat: the process group id. */
const pgrpOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]);

describe('LocalHost processes', () => {
  it('spawnDetached starts a group leader; killGroup ends it', async () => {
    const pid = await detached(['sleep', '300'], 'sleep');
    expect(pid).toBeGreaterThan(0);
    expect(await host.isAlive(pid)).toBe(true);
    expect(pgrpOf(pid)).toBe(pid);
    expect(pgrpOf(pid)).not.toBe(pgrpOf(process.pid));
    await host.killGroup(pid, 2000);
    expect(await host.isAlive(pid)).toBe(false);
  });

  it('kills the whole group, children included', async () => {
    const childFile = join(tmp, 'child.pid');
    const pid = await detached(['sh', '-c', `sleep 300 & echo $! > ${childFile}; wait`], 'group');
    await until(() => existsSync(childFile) && readFileSync(childFile, 'utf8').trim() !== '');
    const child = Number(readFileSync(childFile, 'utf8'));
    expect(pgrpOf(child)).toBe(pid);
    expect(await host.isAlive(child)).toBe(true);
    await host.killGroup(pid, 2000);
    expect(await host.isAlive(pid)).toBe(false);
    expect(await host.isAlive(child)).toBe(false);
  });

  it('escalates to SIGKILL after graceMs when the group ignores TERM', async () => {
    const childFile = join(tmp, 'stubborn.pid');
    const pid = await detached(['sh', '-c', `trap '' TERM; sleep 300 & echo $! > ${childFile}; wait`], 'stubborn');
    await until(() => existsSync(childFile) && readFileSync(childFile, 'utf8').trim() !== '');
    const child = Number(readFileSync(childFile, 'utf8'));
    const t0 = Date.now();
    await host.killGroup(pid, 400);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(await host.isAlive(pid)).toBe(false);
    expect(await host.isAlive(child)).toBe(false);
  });

  it('appends stdout/stderr to the files and reports exit as not alive', async () => {
    for (let i = 0; i < 2; i++) {
      const pid = await detached(['sh', '-c', 'echo "{\\"n\\":1}"; echo oops >&2'], 'append');
      await until(async () => !(await host.isAlive(pid)));
    }
    expect(readFileSync(join(tmp, 'append.out'), 'utf8')).toBe('{"n":1}\n{"n":1}\n');
    expect(readFileSync(join(tmp, 'append.err'), 'utf8')).toBe('oops\noops\n');
  });

  it('passes the given env exactly to a detached process', async () => {
    const { pid } = await host.spawnDetached(['/usr/bin/env'], { cwd: tmp, env: { ONLY: 'this' }, stdoutFile: join(tmp, 'env.out'), stderrFile: join(tmp, 'env.err') });
    await until(async () => !(await host.isAlive(pid)));
    expect(readFileSync(join(tmp, 'env.out'), 'utf8')).toBe('ONLY=this\n');
  });

  it('rejects with OxiError when the program does not exist', async () => {
    await expect(detached(['/nonexistent/agent'], 'missing')).rejects.toThrow(OxiError);
  });

  it('isAlive / killGroup on a pid that does not exist', async () => {
    expect(await host.isAlive(2 ** 22 + 12345)).toBe(false);
    await expect(host.killGroup(2 ** 22 + 12345, 100)).resolves.toBeUndefined();
  });

  it('refuses pids that would signal our own group or everything', async () => {
    for (const pid of [0, 1, -5, 1.5, Number.NaN]) {
      await expect(host.killGroup(pid)).rejects.toThrow(OxiError);
      await expect(host.isAlive(pid)).rejects.toThrow(OxiError);
    }
  });
});

describe('LocalHost.exec', () => {
  it('returns exit codes and verbatim output without throwing', async () => {
    expect(await host.exec(['sh', '-c', 'printf "out\\n"; printf err >&2; exit 3'])).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err' });
    expect((await host.exec(['true'])).exitCode).toBe(0);
    expect((await host.exec(['pwd'], { cwd: tmp })).stdout.trim()).toBe(tmp);
  });

  it('gives the child exactly the env it was given', async () => {
    process.env.OXI_TEST_SECRET = 'leak';
    try {
      const isolated = await host.exec(['/usr/bin/env'], { env: { FOO: 'bar' } });
      expect(isolated.stdout).toBe('FOO=bar\n');
      const inherited = await host.exec(['/usr/bin/env']);
      expect(inherited.stdout).toContain('OXI_TEST_SECRET=leak');
    } finally {
      delete process.env.OXI_TEST_SECRET;
    }
  });

  it('closes stdin', async () => {
    expect(await host.exec(['cat'])).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('kills the process on timeout', async () => {
    const t0 = Date.now();
    const result = await host.exec(['sleep', '30'], { timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(result).toMatchObject({ exitCode: 143, signal: 'SIGTERM' });
    expect(result.stderr).toContain('timed out after 300 ms');
  });

  it('reports a missing program as exit 127', async () => {
    const result = await host.exec(['/nonexistent/tool', '--version']);
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toContain('ENOENT');
  });
});

describe('LocalHost probe and files', () => {
  it('probe reports sane numbers', async () => {
    const probe = await host.probe();
    expect(probe.cpus).toBeGreaterThan(0);
    expect(probe.load5).toBeGreaterThanOrEqual(0);
    expect(probe.totalMemMb).toBeGreaterThan(0);
    expect(probe.freeMemMb).toBeGreaterThanOrEqual(0);
    expect(probe.freeMemMb).toBeLessThanOrEqual(probe.totalMemMb);
  });

  it('readFile returns undefined for a missing file; writeFile creates directories', async () => {
    expect(await host.readFile(join(tmp, 'nope.txt'))).toBeUndefined();
    const file = join(tmp, 'deep', 'er', 'state.json');
    await host.writeFile(file, '{"a":1}');
    expect(await host.readFile(file)).toBe('{"a":1}');
    await host.writeFile(file, 'replaced');
    expect(await host.readFile(file)).toBe('replaced');
  });

  it('has a name', () => {
    expect(host.name).toBe('local');
    expect(new LocalHost('builder-1').name).toBe('builder-1');
  });
});
