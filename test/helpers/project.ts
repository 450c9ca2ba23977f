import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { createSampleProject } from '../../src/demo/sample-project.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const OXI = join(ROOT, 'bin', 'oxi.js');

/** A sample project in a temp dir, with its script and adapter patched for the test. */
export function sampleProject(options: {
  tasks?: number;
  script?: (script: { tasks: Record<string, Record<string, unknown>> }) => void;
  config?: (config: Record<string, any>) => void;
} = {}) {
  const parent = mkdtempSync(join(tmpdir(), 'oxi-it-'));
  const dir = join(parent, 'project');
  const { configPath, ids } = createSampleProject({ dir, tasks: options.tasks ?? 3 });
  if (options.script || options.config) {
    const scriptPath = join(dir, '.oxi-script.json');
    const script = JSON.parse(readFileSync(scriptPath, 'utf8'));
    options.script?.(script);
    writeFileSync(scriptPath, JSON.stringify(script, null, 2));
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    options.config?.(config);
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'test setup'], { cwd: dir });
  }
  return {
    dir,
    configPath,
    ids,
    db: join(dir, '.oxi', 'oxi.db'),
    cleanup: () => {
      // A test that failed before its daemon ended its workers must not leave them running (they are detached groups).
      endRecordedWorkers(join(dir, '.oxi', 'oxi.db'));
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** SIGKILLs the process group of every worker (and promote command) the project's database recorded (none if it has no database). */
export function endRecordedWorkers(dbPath: string): void {
  let pids: number[] = [];
  try {
    pids = [
      ...query<{ pid: number }>(dbPath, 'SELECT worker_pid AS pid FROM tasks WHERE worker_pid IS NOT NULL'),
      ...query<{ pid: number }>(dbPath, 'SELECT pid FROM kill_group'),
      ...query<{ pid: number }>(dbPath, 'SELECT pid FROM promote_group WHERE pid IS NOT NULL'),
    ].map((r) => r.pid);
  } catch {
    return; // no database yet
  }
  for (const pid of new Set(pids)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Runs the CLI to completion. */
export function oxi(args: string[], options: { cwd?: string; timeoutMs?: number } = {}) {
  try {
    const stdout = execFileSync(process.execPath, [OXI, ...args], { cwd: options.cwd ?? ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 120_000 });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status: number | null; stdout: string; stderr: string };
    return { code: e.status ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Runs the CLI to completion without blocking this process: a test that relays the daemon's traffic in
 * process (a blackhole relay) must keep forwarding while the CLI runs, or it stalls the daemon's handshakes.
 */
export function oxiAsync(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [OXI, ...args], { cwd: options.cwd ?? ROOT, encoding: 'utf8', timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts the CLI as a long-running child (the daemon), output collected. */
export function spawnOxi(args: string[], cwd = ROOT): ChildProcess & { output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [OXI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return Object.assign(child, { output: () => out, exited });
}

/** `oxi run` in `dir` (no dashboard), SIGKILLed by the given cleanups if a test leaves it running. */
export function spawnDaemon(dir: string, cleanups: Array<() => unknown>): ReturnType<typeof spawnOxi> {
  const d = spawnOxi(['run', '--no-dashboard'], dir);
  cleanups.push(async () => {
    if (d.exitCode === null && d.signalCode === null) {
      d.kill('SIGKILL');
      await d.exited;
    }
  });
  return d;
}

/** Read-only look at the project's database (the daemon may be writing it). */
export function query<T = Record<string, unknown>>(dbPath: string, sql: string, ...args: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | false;
    try {
      value = await fn();
    } catch {
      value = undefined;
    }
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
