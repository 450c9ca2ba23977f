/**
 * A real OpenSSH sshd on 127.0.0.1 for tests: its own config, host key, client key and known_hosts
 * in a temp dir. `stop()` kills the listener and its per-connection children (the host "goes down");
 * `start()` brings it back on the same port with the same host key.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

export interface TestSshd {
  dir: string;
  port: number;
  user: string;
  identityFile: string;
  knownHosts: string;
  /** The host key's public line (type + base64). */
  hostKey: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Replaces the host key with a new one (restart needed). */
  rekey(): void;
  cleanup(): Promise<void>;
}

export const SSHD = '/usr/sbin/sshd';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

const keygen = (path: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'oxi-test', '-f', path]);

export async function startSshd(options: { maxSessions?: number } = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(os.tmpdir(), 'oxi-sshd-'));
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation directory
  const port = await freePort();
  const user = os.userInfo().username;
  keygen(join(dir, 'host_ed25519'));
  keygen(join(dir, 'client_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_ed25519.pub')));
  const knownHosts = join(dir, 'known_hosts');
  const writeKnown = () => {
    const [type, key] = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').split(' ');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${type} ${key}\n`);
    return `${type} ${key}`;
  };
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_ed25519')}`, 'PidFile none', 'StrictModes no', 'UsePAM no',
    'PermitRootLogin yes', 'PubkeyAuthentication yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, `MaxSessions ${options.maxSessions ?? 10}`, 'LogLevel ERROR',
    // The test user's ~/.bashrc is the machine's, not the test's (a pyenv init there costs ~1 s per command): bash
    // reads it for an SSH command only at shell level 1, and SHLVL=1 from sshd makes the command's shell level 2.
    'SetEnv SHLVL=1', '',
  ].join('\n'));
  let child: ChildProcess | undefined;
  const sshd: TestSshd = {
    dir,
    port,
    user,
    identityFile: join(dir, 'client_ed25519'),
    knownHosts,
    hostKey: writeKnown(),
    async start() {
      child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      for (let i = 0; i < 100; i++) {
        if (await listening(port)) return;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`sshd did not start on port ${port}: ${err}`);
    },
    async stop() {
      const c = child;
      if (!c?.pid || c.exitCode !== null) return;
      const kids = childrenOf(c.pid);
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      for (const k of kids) {
        try {
          process.kill(k, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await exited;
    },
    rekey() {
      rmSync(join(dir, 'host_ed25519'));
      rmSync(join(dir, 'host_ed25519.pub'));
      keygen(join(dir, 'host_ed25519'));
    },
    async cleanup() {
      await sshd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await sshd.start();
  return sshd;
}

/** An adapter `hosts[]` entry for a test sshd: its address, user, key and known_hosts, with the given clone, worktrees root and extras. */
export function sshHostEntry(name: string, s: TestSshd, o: { mainClone: string; worktreesRoot: string; maxWorkers?: number; [key: string]: unknown }): Record<string, unknown> {
  return { name, kind: 'ssh', address: '127.0.0.1', port: s.port, user: s.user, identityFile: s.identityFile, knownHosts: s.knownHosts, maxWorkers: 1, ...o };
}
