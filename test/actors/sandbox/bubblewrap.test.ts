/**
 * The bubblewrap sandbox, attacked from inside with real processes: an agent command (`sh -c …`) wrapped by
 * the real sandbox of the real local host. Each attack has a control: the same command without the trick
 * works, or the same trick works unsandboxed (so the test would notice a sandbox that does nothing).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sandboxOf } from '../../../actors/sandbox/sandbox.js';
import { gitSync } from '../../helpers/git-repo.js';
import { waitFor } from '../../helpers/project.js';
import { CLAUDE_SECRET, CODEX_SECRET, makeBed, OTHER_TASK_SECRET, processesWith, STATE_SECRET, type Bed } from './bed.js';

let bed: Bed;

beforeAll(() => {
  bed = makeBed();
});
afterAll(() => {
  bed?.cleanup();
});

describe('an agent in the bubblewrap sandbox', () => {
  it('is sandboxed here: bubblewrap probed once and reported available', async () => {
    const status = await sandboxOf(bed.adapter(), bed.host).status();
    expect(status).toMatchObject({ kind: 'bubblewrap', available: true });
    expect(status.reason).toMatch(/bubblewrap \d/);
  });

  it('control: writes and commits in its own workspace, reads the repo, runs node', async () => {
    const r = await bed.run('echo hello > made.txt && git add made.txt && git -c user.name=a -c user.email=a@b commit -qm made && git log --oneline | wc -l && node -e "console.log(40 + 2)"');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['2', '42']);
    expect(readFileSync(join(bed.ws1, 'made.txt'), 'utf8')).toBe('hello\n');
    expect(gitSync(bed.ws1, ['log', '-1', '--format=%s']).trim()).toBe('made');
  });

  it("cannot read the engine's environment or any other process's through /proc", async () => {
    // A variable of this (engine) process as the kernel shows it, which the agent's own whitelisted env lacks.
    const marker = readFileSync(`/proc/${process.pid}/environ`, 'utf8').split('\0').find((v) => v.includes('=') && !/^(PATH|HOME|PWD|SHLVL|_)=/.test(v))!;
    expect(marker).toBeTruthy();
    const attack = `cat /proc/${process.pid}/environ; cat /proc/${process.ppid}/environ; for p in /proc/[0-9]*; do cat "$p/environ"; done; echo; echo "processes=$(ls /proc | grep -c '^[0-9]')"`;
    const r = await bed.run(attack);
    expect(r.stdout).not.toContain(marker);
    // Its own PID namespace: bwrap's init, the network bridge (agents.network allowlist), the shell, and what the shell runs — nothing of the host.
    expect(Number(/processes=(\d+)/.exec(r.stdout)?.[1])).toBeLessThan(7);
    // Control: unsandboxed, the same command reads the engine's environment.
    const open = await bed.run(attack, { sandbox: { mode: 'none' } });
    expect(open.stdout).toContain(marker);
  });

  it("cannot write into the state dir, the main clone's working tree or another task's workspace", async () => {
    const targets = [join(bed.stateDir, 'evil'), join(bed.main, 'evil.txt'), join(bed.main, '.git', 'hooks', 'pre-commit'), join(bed.ws2, 'evil.txt')];
    const r = await bed.run(targets.map((t) => `echo pwned > '${t}'`).join('; '));
    for (const t of targets) expect(existsSync(t), t).toBe(false);
    expect(r.exitCode).not.toBe(0);
  });

  it("cannot read another task's workspace, the state dir or the main clone", async () => {
    const r = await bed.run(`cat '${join(bed.ws2, 'secret.txt')}' '${join(bed.stateDir, 'state-secret')}' '${join(bed.main, 'README.md')}'; ls '${bed.main}'`);
    expect(r.stdout).not.toContain(OTHER_TASK_SECRET);
    expect(r.stdout).not.toContain(STATE_SECRET);
    expect(r.stdout).not.toContain('# fixture');
    // Control: the workspace itself (a clone of the same repo) is readable.
    expect((await bed.run('cat README.md')).stdout).toBe('# fixture\n');
  });

  it("sees only its own backend's login in the home: claude not ~/.codex, codex not ~/.claude", async () => {
    const read = `cat ~/.claude/.credentials.json; echo; cat ~/.codex/auth.json`;
    const claude = await bed.run(read, { backend: 'claude' });
    expect(claude.stdout).toContain(CLAUDE_SECRET);
    expect(claude.stdout).not.toContain(CODEX_SECRET);
    const codex = await bed.run(read, { backend: 'codex' });
    expect(codex.stdout).toContain(CODEX_SECRET);
    expect(codex.stdout).not.toContain(CLAUDE_SECRET);
    // A backend that needs no login (the scripted agent) sees neither.
    const scripted = await bed.run(read, { backend: 'scripted' });
    expect(scripted.stdout).not.toContain(CLAUDE_SECRET);
    expect(scripted.stdout).not.toContain(CODEX_SECRET);
    // claude's own config that runs commands (hooks in settings.json) is read-only to it.
    await bed.run(`echo '{"hooks":1}' > ~/.claude/settings.json`, { backend: 'claude' });
    expect(readFileSync(join(bed.home, '.claude', 'settings.json'), 'utf8')).toBe('{}');
  });

  it('cannot escape through a symlink it creates in its workspace', async () => {
    const readme = join(bed.main, 'README.md');
    const r = await bed.run(`ln -s '${readme}' out-file && echo pwned > out-file; ln -s '${bed.main}' out-dir && echo pwned > out-dir/evil.txt; ln -s '${bed.stateDir}' out-state && cat out-state/state-secret`);
    expect(readFileSync(readme, 'utf8')).toBe('# fixture\n');
    expect(existsSync(join(bed.main, 'evil.txt'))).toBe(false);
    expect(r.stdout).not.toContain(STATE_SECRET);
  });

  it('as planner or critic, reads the main clone but writes nothing there, and the state dir inside it stays hidden', async () => {
    const r = await bed.run(`cat README.md; echo pwned > README.md; echo x > new.txt; cat .oxi/state-secret; echo scratch > /tmp/s && cat /tmp/s`, { role: 'critic' });
    expect(r.stdout).toContain('# fixture');
    expect(r.stdout).not.toContain(STATE_SECRET);
    expect(r.stdout).toContain('scratch');
    expect(readFileSync(join(bed.main, 'README.md'), 'utf8')).toBe('# fixture\n');
    expect(existsSync(join(bed.main, 'new.txt'))).toBe(false);
    expect(r.argv).toContain('--die-with-parent');
  });
});

describe('processes and network', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    for (const marker of ['314159', '271828']) for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
  });

  it("a process it leaves running is gone when the sandbox's main process exits (control: unsandboxed it survives)", async () => {
    const script = 'setsid sleep 314159 </dev/null >/dev/null 2>&1 & exit 0';
    const start = async (mode: 'auto' | 'none') => {
      const { argv } = await sandboxOf(bed.adapter({ mode }), bed.host).wrap({ role: 'worker', backend: 'scripted', argv: ['sh', '-c', script], env: { PATH: process.env.PATH! }, workspace: bed.ws1, writable: true, waited: false });
      const files = join(bed.repo.scratch, `left-${mode}`);
      return bed.host.spawnDetached(argv, { cwd: bed.ws1, env: { PATH: process.env.PATH! }, stdoutFile: `${files}.out`, stderrFile: `${files}.err`, pidFile: `${files}.pid` });
    };
    const sandboxed = await start('auto');
    // The recorded pid is the sandbox's (the pid-file shell execs bwrap), unless it already ended.
    await waitFor('the pid file shell replaced by bwrap', () => { try { return /bwrap$/.test(argvOf(sandboxed.pid)[0]); } catch { return true; } }, 5_000, 5);
    await waitFor('the sandboxed session ended', async () => !(await bed.host.isAlive(sandboxed.pid)), 15_000, 20);
    await waitFor('its leftover gone with it', () => processesWith('314159').length === 0, 5_000, 20);

    const open = await start('none');
    await waitFor('the unsandboxed session ended', async () => !(await bed.host.isAlive(open.pid)), 15_000, 20);
    expect(await waitFor('the unsandboxed leftover seen', () => processesWith('314159').length > 0, 5_000, 20)).toBe(true);
  });

  it('killGroup of the recorded pid ends everything inside, even a process that left the group', async () => {
    const { argv } = await sandboxOf(bed.adapter(), bed.host).wrap({ role: 'worker', backend: 'scripted', argv: ['sh', '-c', 'setsid sleep 271828 </dev/null >/dev/null 2>&1 & exec sleep 1000'], env: { PATH: process.env.PATH! }, workspace: bed.ws1, writable: true, waited: false });
    const files = join(bed.repo.scratch, 'kill');
    const { pid } = await bed.host.spawnDetached(argv, { cwd: bed.ws1, env: { PATH: process.env.PATH! }, stdoutFile: `${files}.out`, stderrFile: `${files}.err`, pidFile: `${files}.pid` });
    await waitFor('the escaped sleeper started', () => processesWith('271828').length > 0, 10_000, 20);
    await bed.host.killGroup(pid, 2000);
    expect(await bed.host.isAlive(pid)).toBe(false);
    await waitFor('the escaped sleeper gone', () => processesWith('271828').length === 0, 5_000, 20);
  });

  it('network "none" blocks a loopback connection to a server on the host, as the default allowlist does (control: "open" reaches it)', async () => {
    server = createServer((socket) => socket.on('error', () => undefined).end('hi\n'));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dial = `node -e "require('net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(3); })"`;
    const blocked = await bed.run(dial, { sandbox: { network: 'none' } });
    expect(blocked.stdout.trim()).toBe('ECONNREFUSED');
    expect(blocked.argv).toContain('--unshare-net');
    const allowlist = await bed.run(dial);
    expect(allowlist.stdout.trim()).toBe('ECONNREFUSED');
    const open = await bed.run(dial, { sandbox: { network: 'open' } });
    expect(open.stdout.trim()).toBe('CONNECTED');
  });
});

describe('a legacy linked worktree (its .git is a file)', () => {
  it('still commits, while the shared git dir keeps its hooks and config out of reach', async () => {
    const wt = join(bed.repo.scratch, 'legacy');
    gitSync(bed.main, ['worktree', 'add', '-q', '-b', 'legacy', wt]);
    const config = readFileSync(join(bed.main, '.git', 'config'), 'utf8');
    const r = await bed.run(`echo x > f.txt && git add f.txt && git -c user.name=a -c user.email=a@b commit -qm legacy && echo '[core] hooksPath = /tmp' >> "$(git rev-parse --git-common-dir)/config"; echo evil > "$(git rev-parse --git-common-dir)/hooks/post-commit"`, { workspace: wt });
    expect(gitSync(wt, ['log', '-1', '--format=%s']).trim()).toBe('legacy');
    expect(readFileSync(join(bed.main, '.git', 'config'), 'utf8')).toBe(config);
    expect(existsSync(join(bed.main, '.git', 'hooks', 'post-commit'))).toBe(false);
    expect(r.stderr).toMatch(/Read-only file system/);
  });
});

function argvOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}

