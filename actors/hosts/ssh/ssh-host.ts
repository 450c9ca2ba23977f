/**
 * HostTransport over SSH (ssh2). Programs run argv-form (each word quoted for the remote shell),
 * with the environment inline and stdin closed. Agents start under `setsid` with their pid written
 * to a file on the host; cancellation is `kill -TERM -<pgid>` over a second exec, because sshd refuses
 * channel signals for root. Files are read and written with small POSIX commands (Linux and macOS).
 */
import { posix } from 'node:path';
import os from 'node:os';
import { OxiError, RemoteChannelError } from '../../../src/errors.js';
import type { ExecOptions, ExecResult, HostProbe, HostTransport, SpawnDetachedOptions } from '../../../src/ports.js';
import { ConnectionPool, type PoolTuning, type SshTarget } from './connection-pool.js';
import { envPrefix, remoteCommand, shJoin, shQuote } from './shell.js';

/** Prints `cpus load5 freeMb totalMb` on Linux (procfs) or macOS (sysctl, vm_stat). */
const PROBE_SCRIPT = `
if [ -r /proc/meminfo ]; then
  c=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc); l=$(cut -d' ' -f2 /proc/loadavg)
  f=$(awk '/^MemAvailable:/{print int($2/1024)}' /proc/meminfo); t=$(awk '/^MemTotal:/{print int($2/1024)}' /proc/meminfo)
else
  c=$(sysctl -n hw.ncpu); l=$(sysctl -n vm.loadavg | awk '{print $3}'); t=$(( $(sysctl -n hw.memsize) / 1048576 ))
  f=$(vm_stat | awk '/page size of/{ps=$8} /Pages (free|inactive|speculative)/{gsub(/\\./,"",$NF); n+=$NF} END{print int(n*ps/1048576)}')
fi
echo "$c $l $f $t"`;

/** Exit 0 while the pid runs, 1 when it is gone (a zombie counts as gone); without ps, 2: unknown, not gone. */
const ALIVE_SCRIPT = `command -v ps >/dev/null 2>&1 || { echo 'ps not found on PATH' >&2; exit 2; }; s=$(ps -o stat= -p "$1" 2>/dev/null) || exit 1; case "$s" in *Z*) exit 1;; esac; exit 0`;

/** Whether any non-zombie process is left in group $1. */
const GROUP_ALIVE = `group_alive() { ps -A -o pgid=,stat= | awk -v g="$1" '$1==g && $2 !~ /Z/ {f=1} END{exit !f}'; }`;

/** TERM the group, wait up to $2 tenths of a second, then KILL. */
const KILL_SCRIPT = `${GROUP_ALIVE}
group_alive "$1" || exit 0
kill -s TERM -- "-$1" 2>/dev/null
i=0; while group_alive "$1"; do
  if [ "$i" -ge "$2" ]; then kill -s KILL -- "-$1" 2>/dev/null; sleep 0.2; exit 0; fi
  sleep 0.1; i=$((i+1))
done`;

/**
 * Starts "$@" in a new session (setsid → pid = pgid), writes its pid to $1 and to stdout, then
 * becomes the program with stdout/stderr appended to $2/$3 and stdin from /dev/null.
 */
// The pid, stream and stderr files are created 600 in a subshell: the program keeps the login umask.
const SPAWN_SCRIPT = `p=$1 o=$2 e=$3; shift 3; (umask 077 && : >>"$o" && : >>"$e" && echo $$ > "$p"); echo $$; exec "$@" </dev/null >>"$o" 2>>"$e"`;

export type SshHostOptions = SshTarget & PoolTuning & {
  /**
   * Bound on the small commands of the transport (probe, liveness, files, starting a worker) and the
   * grace after an exec's own timeoutMs: past it the outcome is unknown and the host treated as out of reach.
   */
  commandTimeoutMs?: number;
  /** Bound on an exec that sets no timeoutMs of its own (a git fetch or push over a slow link). */
  execTimeoutMs?: number;
};

export class SshHost implements HostTransport {
  readonly name: string;
  readonly pool: ConnectionPool;
  private readonly commandTimeoutMs: number;
  private readonly execTimeoutMs: number;

  constructor(private readonly options: SshHostOptions) {
    this.name = options.name;
    this.pool = new ConnectionPool(options, options);
    this.commandTimeoutMs = options.commandTimeoutMs ?? 60_000;
    this.execTimeoutMs = options.execTimeoutMs ?? 30 * 60_000;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const run = await this.pool.run(remoteCommand({ argv, cwd: options.cwd, env: options.env, timeoutMs: options.timeoutMs }), {
      what: `\`${argv[0]}\``,
      // Why: the host's own `timeout` kills the program at timeoutMs; the extra bound catches a host that never reports it.
      timeoutMs: options.timeoutMs === undefined ? this.execTimeoutMs : options.timeoutMs + this.commandTimeoutMs,
      timeoutSetting: options.timeoutMs === undefined ? 'execTimeoutMs' : 'commandTimeoutMs',
    });
    let stderr = run.stderr;
    if (options.timeoutMs !== undefined && run.exitCode === 124) stderr += `[oxi] ${argv[0]} timed out after ${options.timeoutMs} ms and was killed\n`;
    return { ...toExit(run.exitCode, run.signal), stdout: run.stdout, stderr };
  }

  /** Runs a small POSIX sh script with positional arguments (never interpolated into the script). */
  async sh(what: string, script: string, args: readonly (string | number)[] = [], options: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const run = await this.pool.run(`sh -c ${shQuote(script)} oxi ${shJoin(args.map(String))}`, { input: options.input, what, timeoutMs: options.timeoutMs ?? this.commandTimeoutMs });
    return { ...toExit(run.exitCode, run.signal), stdout: run.stdout, stderr: run.stderr };
  }

  async spawnDetached(argv: readonly string[], options: SpawnDetachedOptions): Promise<{ pid: number }> {
    if (argv.length === 0) throw new OxiError(`SshHost.spawnDetached on "${this.name}" needs a program to run, got an empty argv.`);
    const pidFile = `${options.stdoutFile}.pid`;
    const dirs = [...new Set([posix.dirname(options.stdoutFile), posix.dirname(options.stderrFile)])];
    const program = options.env === undefined ? shJoin(argv) : `${envPrefix(options.env)} ${shJoin(argv)}`;
    const command = [
      `(umask 077 && mkdir -p -- ${shJoin(dirs)}) &&`,
      options.cwd === undefined ? '' : `cd -- ${shQuote(options.cwd)} &&`,
      `exec setsid sh -c ${shQuote(SPAWN_SCRIPT)} oxi-worker ${shJoin([pidFile, options.stdoutFile, options.stderrFile])} ${program} </dev/null`,
    ].join(' ');
    const run = await this.pool.run(command, { what: `the start of \`${argv[0]}\``, timeoutMs: this.commandTimeoutMs });
    const pid = Number(run.stdout.trim().split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 1) {
      throw new OxiError(`Could not start ${argv[0]} on host "${this.name}" in ${options.cwd ?? '(login dir)'}: ${run.stderr.trim() || `no pid came back (exit ${run.exitCode})`}.`, {
        fix: `Check that ${argv[0]} and setsid are installed on "${this.name}" and that the directory exists there.`,
      });
    }
    return { pid };
  }

  async isAlive(pid: number): Promise<boolean> {
    assertPid(pid);
    const r = await this.sh(`the liveness check of pid ${pid}`, ALIVE_SCRIPT, [pid]);
    if (r.exitCode === 0 || r.exitCode === 1) return r.exitCode === 0;
    // Why: only a clean "not running" may be read as gone; anything else leaves the worker's state unknown.
    throw new RemoteChannelError(`Expected the liveness check of pid ${pid} on host "${this.name}" to exit 0 (running) or 1 (gone); it exited ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}.`, {
      fix: `Check that sh and ps work for the ssh user on "${this.name}" (ssh to it and run: ps -o stat= -p ${pid}).`,
    });
  }

  async killGroup(pid: number, graceMs = 5000): Promise<void> {
    assertPid(pid);
    const r = await this.sh(`the kill of process group ${pid}`, KILL_SCRIPT, [pid, Math.ceil(graceMs / 100)], { timeoutMs: graceMs + this.commandTimeoutMs });
    if (r.exitCode !== 0) throw new OxiError(`Could not stop process group ${pid} on host "${this.name}": ${r.stderr.trim() || `exit ${r.exitCode}`}.`, { fix: `Log in to "${this.name}" and stop it: kill -KILL -- -${pid}` });
  }

  redial(): void {
    this.pool.retryNow();
  }

  async probe(): Promise<HostProbe> {
    this.redial();
    const r = await this.sh('the probe', PROBE_SCRIPT);
    const [cpus, load5, freeMemMb, totalMemMb] = r.stdout.trim().split(/\s+/).map(Number);
    if (r.exitCode !== 0 || ![cpus, load5, freeMemMb, totalMemMb].every(Number.isFinite)) {
      throw new OxiError(`Expected "cpus load5 freeMb totalMb" from the probe of host "${this.name}"; got ${JSON.stringify(r.stdout.trim())} (exit ${r.exitCode}: ${r.stderr.trim()}).`, {
        fix: 'The probe supports Linux (procfs) and macOS (sysctl); check that awk and getconf exist on the host.',
      });
    }
    return { cpus, load5, freeMemMb, totalMemMb };
  }

  async readFile(path: string): Promise<string | undefined> {
    const r = await this.sh(`the read of ${path}`, '[ -e "$1" ] || exit 3; exec cat -- "$1"', [path]);
    if (r.exitCode === 3) return undefined;
    if (r.exitCode !== 0) throw new OxiError(`Could not read ${path} on host "${this.name}": ${r.stderr.trim()}.`, { fix: 'Check the file\'s permissions on the host.' });
    return r.stdout;
  }

  /** Size in bytes, or undefined when the file does not exist: growth of a worker's stream is its progress. */
  async fileSize(path: string): Promise<number | undefined> {
    const r = await this.sh(`the size of ${path}`, '[ -e "$1" ] || exit 3; wc -c < "$1"', [path]);
    return r.exitCode === 0 ? Number(r.stdout.trim()) : undefined;
  }

  /** Atomic replace on the host (temp file + mv), content over stdin. */
  async writeFile(path: string, content: string): Promise<void> {
    const r = await this.sh(`the write of ${path}`, 'umask 077 && mkdir -p -- "$(dirname -- "$1")" && t="$1.tmp-$$" && cat > "$t" && mv -f -- "$t" "$1"', [path], { input: content });
    if (r.exitCode !== 0) throw new OxiError(`Could not write ${path} on host "${this.name}": ${r.stderr.trim()}.`, { fix: 'Check that the directory is writable by the ssh user.' });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function toExit(code: number | null, signal?: string): { exitCode: number; signal?: string } {
  if (code !== null) return { exitCode: code, ...(signal ? { signal } : {}) };
  const num = signal ? os.constants.signals[signal as keyof typeof os.constants.signals] : undefined;
  return { exitCode: 128 + (num ?? 0), ...(signal ? { signal } : {}) };
}

/** Why: kill -- -0 or -1 on the host would signal the session's own group or every process of the user. */
function assertPid(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 1) throw new OxiError(`Expected a worker pid (an integer > 1), got ${String(pid)}.`, { fix: 'Pass the pid that spawnDetached returned.' });
}
