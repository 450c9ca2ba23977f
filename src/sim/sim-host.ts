import { appendFileSync, existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Clock } from '../../src/clock.js';
import { HostUnreachableError } from '../../src/errors.js';
import type { ExecResult, HostProbe, HostTransport, SpawnDetachedOptions } from '../../src/ports.js';
import type { Population } from './population.js';

interface SimProcess {
  pid: number;
  task: string;
  alive: boolean;
  timers: unknown[];
}

/** What the world watches through the host: every dispatch, and whether the switch allowed it. */
export interface HostObserver {
  killed(): boolean;
  violation(what: string, task: string): void;
  spawned(task: string, pid: number, at: number): void;
  /** Live workers of this task on every host. */
  aliveFor(task: string): number;
}

/**
 * A host whose "processes" are sessions played on the simulated clock: each appends its
 * claude stream-json lines to the real log file the engine tails, then exits (or hangs).
 * Faults: unreachable windows (every call throws, as an SSH host would) and a full disk.
 */
export class SimHost implements HostTransport {
  private nextPid = 40_000;
  readonly procs = new Map<number, SimProcess>();
  down = false;
  diskFull = false;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
    private readonly population: Population,
    private readonly observer: HostObserver,
  ) {}

  private reach(): void {
    // What the SSH transport throws when it cannot reach its host: the engine reads "unknown", never "gone".
    if (this.down) throw new HostUnreachableError(`Expected to connect to host "${this.name}"; it failed: connect ETIMEDOUT (simulated).`, { fix: 'Wait for the host to come back.' });
  }

  async exec(): Promise<ExecResult> {
    this.reach();
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  /** Dispatches attempted while the host was unreachable (the probe should have stopped them). */
  refusedSpawns = 0;

  async spawnDetached(argv: readonly string[], options: SpawnDetachedOptions): Promise<{ pid: number }> {
    if (this.down) this.refusedSpawns++;
    this.reach();
    const [, task, attempt] = argv;
    if (this.observer.killed()) this.observer.violation('spawn', task);
    // Contract 3.2: a task never has two workers at once (adopt, never double).
    if (this.observer.aliveFor(task) > 0) this.observer.violation('second live worker', task);
    const pid = this.nextPid++;
    const proc: SimProcess = { pid, task, alive: true, timers: [] };
    this.procs.set(pid, proc);
    this.observer.spawned(task, pid, this.clock.now());
    if (options.pidFile) writeFileSync(options.pidFile, String(pid));
    if (this.diskFull) {
      // The disk fills as the session starts: the engine's own state file write fails with ENOSPC.
      const state = options.stdoutFile.replace(/\.ndjson$/, '.json');
      if (existsSync(state)) rmSync(state);
      symlinkSync('/dev/full', state);
    }
    const session = this.population.session(task, Number(attempt));
    let at = 0;
    for (const step of session.steps) {
      at += step.afterMs;
      proc.timers.push(
        this.clock.setTimeout(() => {
          if (!proc.alive) return;
          try {
            if (step.line !== undefined) appendFileSync(options.stdoutFile, `${step.line}\n`);
          } catch {
            proc.alive = false; // a real process dies on a write error (ENOSPC)
          }
        }, at),
      );
    }
    if (session.end === 'exit') proc.timers.push(this.clock.setTimeout(() => (proc.alive = false), at + 1_000));
    return { pid };
  }

  async isAlive(pid: number): Promise<boolean> {
    this.reach();
    return this.procs.get(pid)?.alive ?? false;
  }

  async killGroup(pid: number): Promise<void> {
    this.reach();
    const proc = this.procs.get(pid);
    if (!proc) return;
    proc.alive = false;
    for (const t of proc.timers) this.clock.clearTimeout(t);
  }

  async probe(): Promise<HostProbe> {
    this.reach();
    return { cpus: 8, load5: 0.5, freeMemMb: 16_000, totalMemMb: 32_000 };
  }

  async readFile(): Promise<string | undefined> {
    this.reach();
    return undefined;
  }

  async writeFile(): Promise<void> {
    this.reach();
  }

  alive(): SimProcess[] {
    return [...this.procs.values()].filter((p) => p.alive);
  }
}
