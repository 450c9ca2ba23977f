/**
 * The embedded default HostTransport: this machine. Programs run argv-form (never through a shell);
 * agents start detached in their own process group so they survive an engine crash and can be adopted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsConstants, existsSync } from 'node:fs';
import { readFile, readdir, rename } from 'node:fs/promises';
import os from 'node:os';
import { openPrivate, writePrivate } from '../../src/fs-private.js';
import { OxiError } from '../../src/errors.js';
import type { ExecOptions, ExecResult, HostProbe, HostTransport, SpawnDetachedOptions } from '../../src/ports.js';
import { processExists } from '../../src/process.js';

const MB = 1024 * 1024;
const POLL_MS = 50;
/** After SIGKILL, how long to wait for the group to disappear before returning anyway. */
const AFTER_KILL_MS = 2000;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** `sh -c` script: $0 is the pid file, "$@" the program; exec keeps the pid. Arguments never reach a shell parser. */
// The umask in a subshell: the pid file is 600, and the program keeps the engine's umask.
const PID_THEN_EXEC = '(umask 077 && printf %s "$$" > "$0.tmp") && mv -f "$0.tmp" "$0" && exec "$@"';

/**
 * Resolves once the child has written its pid file (it then execs the program). If it cannot write it
 * (a full disk), it exits without starting the program: no worker runs unrecorded.
 */
async function pidFileWritten(file: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (existsSync(file)) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new OxiError(`The worker exited before recording its pid in ${file} (exit ${child.exitCode ?? child.signalCode}).`, {
        fix: 'Check that the logs directory is writable and has free space.',
      });
    }
    await sleep(5);
  }
  throw new OxiError(`The worker did not record its pid in ${file} within 10 s.`, { fix: 'Check the logs directory and the machine load.' });
}

export class LocalHost implements HostTransport {
  readonly name: string;

  constructor(name = 'local') {
    this.name = name;
  }

  /** Runs argv to completion. Output is returned verbatim (trailing newline kept); a missing program gives exit 127. */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [file, ...args] = argv;
    if (file === undefined) throw new OxiError('LocalHost.exec needs a program to run, got an empty argv.');
    // Loaded on the first exec: importing the host (as status does, through the sandbox) does not load execa.
    const { execa } = await import('execa');
    const result = await execa(file, args, {
      cwd: options.cwd,
      // Why: the caller whitelists the environment; extending it with ours would leak secrets into agents.
      ...(options.env === undefined ? {} : { env: options.env, extendEnv: false }),
      stdin: 'ignore',
      reject: false,
      stripFinalNewline: false,
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs, killSignal: 'SIGTERM' as const, forceKillAfterDelay: 2000 }),
    });
    const stdout = typeof result.stdout === 'string' ? result.stdout : '';
    let stderr = typeof result.stderr === 'string' ? result.stderr : '';
    if (result.timedOut) stderr += `${stderr === '' || stderr.endsWith('\n') ? '' : '\n'}[oxi] ${file} timed out after ${options.timeoutMs} ms and was killed\n`;
    const signal = result.signal ?? undefined;
    if (typeof result.exitCode === 'number') return { exitCode: result.exitCode, ...(signal ? { signal } : {}), stdout, stderr };
    if (signal) return { exitCode: 128 + (os.constants.signals[signal as keyof typeof os.constants.signals] ?? 0), signal, stdout, stderr };
    // Never started (ENOENT, EACCES, bad cwd): report like a shell would, with execa's explanation.
    const code = (result as { code?: string }).code;
    return { exitCode: code === 'ENOENT' ? 127 : 126, stdout, stderr: stderr || `${result.message}\n` };
  }

  /** Starts argv as the leader of a new process group, stdout/stderr appended to files; resolves once it has started. */
  async spawnDetached(argv: readonly string[], options: SpawnDetachedOptions): Promise<{ pid: number }> {
    const [file, ...args] = argv;
    if (file === undefined) throw new OxiError('LocalHost.spawnDetached needs a program to run, got an empty argv.');
    const out = openPrivate(options.stdoutFile, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND);
    const err = openPrivate(options.stderrFile, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND);
    try {
      // timeoutMs is not applied: a detached worker's lifetime is the engine's business (deadman, killGroup).
      // With a pid file, the child records its own pid (written whole, then renamed) before it execs the
      // program: an engine killed at any instant after the fork leaves the worker findable, never a torn file.
      const [program, programArgs] = options.pidFile ? ['/bin/sh', ['-c', PID_THEN_EXEC, options.pidFile, file, ...args]] : [file, args];
      const child = spawn(program, programArgs, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', out, err] });
      const pid = await new Promise<number>((resolvePid, rejectPid) => {
        child.once('spawn', () => resolvePid(child.pid as number));
        child.once('error', rejectPid);
      }).catch((cause: NodeJS.ErrnoException) => {
        throw new OxiError(`Could not start ${file} in ${options.cwd ?? process.cwd()}: ${cause.code ?? cause.message}.`, {
          fix: `Check that ${file} is installed and on PATH of the given environment, and that the directory exists.`,
          cause,
        });
      });
      if (options.pidFile) await pidFileWritten(options.pidFile, child);
      // Why: the engine must be able to exit while the worker runs on; libuv still reaps it if it ends first.
      child.unref();
      return { pid };
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }

  async isAlive(pid: number): Promise<boolean> {
    assertPid(pid);
    if (!processExists(pid)) return false;
    return (await procState(pid)) !== 'Z';
  }

  /** TERM to the whole group, poll up to graceMs for it to go, then KILL. A group that is already gone is fine. */
  async killGroup(pid: number, graceMs = 5000): Promise<void> {
    assertPid(pid);
    if (!signalGroup(pid, 'SIGTERM')) return;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if (!(await groupAlive(pid))) return;
      await sleep(POLL_MS);
    }
    if (!signalGroup(pid, 'SIGKILL')) return;
    const killDeadline = Date.now() + AFTER_KILL_MS;
    while (Date.now() < killDeadline && (await groupAlive(pid))) await sleep(POLL_MS);
  }

  async probe(): Promise<HostProbe> {
    return {
      cpus: os.cpus().length,
      load5: os.loadavg()[1],
      freeMemMb: Math.round(os.freemem() / MB),
      totalMemMb: Math.round(os.totalmem() / MB),
    };
  }

  async readFile(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Atomic replace (temp file + rename) so a reader never sees half a file. */
  async writeFile(path: string, content: string): Promise<void> {
    const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    writePrivate(temp, content);
    await rename(temp, path);
  }
}

/** Why: kill(-0) or kill(-1) would signal our own group or every process we may signal. */
function assertPid(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 1) {
    throw new OxiError(`Expected a worker pid (an integer > 1), got ${String(pid)}.`, { fix: 'Pass the pid that spawnDetached returned.' });
  }
}

/** Signals the group led by pid; false when no such group exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    throw new OxiError(`Could not send ${signal} to process group ${pgid}: ${code ?? (error as Error).message}.`, {
      fix: 'The group belongs to another user; stop it as that user.',
      cause: error,
    });
  }
}

/** The state letter of /proc/<pid>/stat (R, S, Z…), or undefined without procfs. */
async function procState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Why: the command name (field 2) may contain spaces and ')', so parse after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Whether any non-zombie process remains in the group (zombies of an unreaping pid 1 would otherwise look alive). */
async function groupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return true; // no procfs: trust kill(0)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] = state, fields[2] = pgrp
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}
