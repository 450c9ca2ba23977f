import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EffectDeps } from '../../../actors/effects/deps.js';
import { runAgent } from '../../../actors/effects/run-agent.js';
import { GroupTerminator } from '../../../actors/hosts/kill-groups.js';
import { ManualClock } from '../../../src/clock.js';
import { validateConfig } from '../../../src/config/validate.js';
import { DispatchPool } from '../../../src/dispatch/pool.js';
import { HostUnreachableError } from '../../../src/errors.js';
import type { ExecResult, HostProbe, HostTransport, SpawnDetachedOptions } from '../../../src/ports.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { pendingKillGroups } from '../../../src/store/kill-groups.js';
import { seedTask } from '../../helpers/agent-deps.js';

/**
 * Contract 3.2 at a relaunch: a task never has two live workers. A host whose "processes" are records (as the
 * simulated fleet's): it can be made unreachable, and it reports a spawn for a task that already has a live worker.
 */
class RecordingHost implements HostTransport {
  down = false;
  private next = 1000;
  readonly procs = new Map<number, { task: string; alive: boolean }>();
  onSpawn?: () => void;
  constructor(
    readonly name: string,
    private readonly fleet: RecordingHost[],
    private readonly violations: string[],
  ) {}
  private reach(): void {
    if (this.down) throw new HostUnreachableError(`Expected to connect to host "${this.name}"; it failed (test).`, { fix: 'Wait.' });
  }
  async exec(): Promise<ExecResult> {
    this.reach();
    return { exitCode: 0, stdout: '', stderr: '' };
  }
  async spawnDetached(argv: readonly string[], options: SpawnDetachedOptions): Promise<{ pid: number }> {
    this.reach();
    const task = argv[1];
    const live = this.fleet.flatMap((h) => [...h.procs.values()]).filter((p) => p.alive && p.task === task);
    if (live.length) this.violations.push(`second live worker for ${task} on ${this.name}`);
    const pid = this.next++;
    this.procs.set(pid, { task, alive: true });
    if (options.pidFile) writeFileSync(options.pidFile, String(pid));
    this.onSpawn?.();
    return { pid };
  }
  async isAlive(pid: number): Promise<boolean> {
    this.reach();
    return this.procs.get(pid)?.alive ?? false;
  }
  async killGroup(pid: number): Promise<void> {
    this.reach();
    const p = this.procs.get(pid);
    if (p) p.alive = false;
  }
  async probe(): Promise<HostProbe> {
    this.reach();
    return { cpus: 8, load5: 0, freeMemMb: 16_000, totalMemMb: 32_000 };
  }
  async readFile(): Promise<string | undefined> {
    this.reach();
    return undefined;
  }
  async writeFile(): Promise<void> {
    this.reach();
  }
  alive(task: string): number[] {
    return [...this.procs.entries()].filter(([, p]) => p.alive && p.task === task).map(([pid]) => pid);
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function bed() {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-relaunch-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const adapter = validateConfig(
    {
      name: 'relaunch',
      repo: { path: dir, mainBranch: 'main', forge: { kind: 'local' } },
      roadmap: 'ROADMAP.md',
      hosts: [{ name: 'a', kind: 'local', maxWorkers: 2 }, { name: 'b', kind: 'local', maxWorkers: 2 }],
      checks: { command: ['true'] },
      agents: { scripted: { script: 'unused.json' }, timeouts: { wallMinutes: 150, stallMinutes: 10 } },
    },
    { configPath: join(dir, 'oxi.config.json') },
  );
  mkdirSync(adapter.paths.stateDir, { recursive: true });
  const db: Db = openDb(adapter.paths.db);
  cleanups.push(() => db.close());
  const clock = new ManualClock(Date.UTC(2026, 0, 5));
  const violations: string[] = [];
  const fleet: RecordingHost[] = [];
  const a = new RecordingHost('a', fleet, violations);
  const b = new RecordingHost('b', fleet, violations);
  fleet.push(a, b);
  const hosts = new Map<string, HostTransport>([['a', a], ['b', b]]);
  const terminator = new GroupTerminator({ db, clock, hosts, retryMs: 60_000 });
  cleanups.push(() => void terminator.stop());
  let stopMode: 'detach' | 'terminate' = 'terminate';
  const deps: EffectDeps = {
    db,
    clock,
    adapter,
    pool: new DispatchPool({ clock, planTierMax: 4, overlapDeferMs: 1000, openPrFiles: async () => [], budget: () => ({ exceeded: false, until: 0 }) }),
    forge: undefined as never,
    hosts,
    agents: {
      complete: async () => ({ ok: true, text: '', usage: { costUsd: 0 }, backend: 'sim' }),
      workerLaunch: (r) => ({ argv: ['worker', r.taskId, String(r.attempt)], env: {}, backend: 'sim' }),
      parseWorkerLog: () => undefined,
    },
    notifier: { notify: async () => undefined },
    workerStopMode: () => stopMode,
    terminateGroup: (host, pid, task) => terminator.terminate(host, pid, task, 'drain'),
    watchIntervalMs: 60_000,
  };
  seedTask(db, 'T1', clock.now());
  const input = (attempt: number, host: string) => ({
    taskId: 'T1',
    attempt,
    fix: 0,
    host,
    worktree: join(dir, 'no-worktree'),
    branch: 'oxi/t1',
    plan: { files_touched: ['src/a.ts'], tests: [], dependencies: [], risk: 'low' },
    feedback: null,
    title: 'T1',
    description: 'd',
  });
  return { a, b, db, clock, deps, violations, input: input as (attempt: number, host: string) => never, setStopMode: (m: typeof stopMode) => (stopMode = m) };
}

/** Lets the effect run to its next wait on the manual clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

describe('a relaunch never starts a second live worker', () => {
  it('a task that left its worker (reaped) while its host was out of reach: the next attempt waits until that worker is seen gone', async () => {
    const { a, b, db, clock, deps, violations, input } = bed();
    const first = new AbortController();
    const run1 = runAgent(deps, input(0, 'a'), first.signal).catch((e: unknown) => e);
    await settle();
    expect(a.alive('T1')).toHaveLength(1);
    // The reaper's stale verdict lands (the machine leaves `working`) while host a is unreachable: the worker may run on.
    a.down = true;
    first.abort();
    await run1;
    await settle();
    expect(pendingKillGroups(db).map((g) => g.host)).toEqual(['a']);
    // The next attempt is dispatched to host b: nothing starts while a's worker may still be alive.
    const second = new AbortController();
    cleanups.push(() => second.abort());
    const run2 = runAgent(deps, input(1, 'b'), second.signal).catch((e: unknown) => e);
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      await settle();
    }
    expect(b.alive('T1')).toEqual([]);
    // Host a answers again: its worker is terminated, and only then does b's start.
    a.down = false;
    clock.advance(60_000);
    await settle();
    expect(a.alive('T1')).toEqual([]);
    expect(b.alive('T1')).toHaveLength(1);
    expect(pendingKillGroups(db)).toEqual([]);
    expect(violations).toEqual([]);
    second.abort();
    await run2;
  });

  it('a task that leaves `working` while its worker is being started terminates that worker (it would run unwatched)', async () => {
    const { a, db, deps, violations, input } = bed();
    const ctl = new AbortController();
    // The machine leaves `working` (a reap) while the spawn is in flight: the effect learns it only after the spawn returns.
    a.onSpawn = () => ctl.abort();
    await runAgent(deps, input(0, 'a'), ctl.signal).catch((e: unknown) => e);
    await settle();
    expect(a.procs.size).toBe(1);
    expect(a.alive('T1')).toEqual([]);
    expect(pendingKillGroups(db)).toEqual([]);
    a.onSpawn = undefined;
    // Its next attempt starts the only worker.
    const next = new AbortController();
    const run = runAgent(deps, input(1, 'a'), next.signal).catch((e: unknown) => e);
    await settle();
    expect(a.alive('T1')).toHaveLength(1);
    expect(violations).toEqual([]);
    next.abort();
    await run;
  });

  it('a soft kill or an engine stop (detach) leaves the worker for adoption: the same attempt adopts it, nothing is started', async () => {
    const { a, deps, violations, input, setStopMode } = bed();
    const ctl = new AbortController();
    const run = runAgent(deps, input(0, 'a'), ctl.signal).catch((e: unknown) => e);
    await settle();
    setStopMode('detach');
    ctl.abort();
    await run;
    const [pid] = a.alive('T1');
    expect(pid).toBeDefined();
    const again = new AbortController();
    const adopt = runAgent(deps, input(0, 'a'), again.signal).catch((e: unknown) => e);
    await settle();
    expect(a.procs.size).toBe(1);
    expect(a.alive('T1')).toEqual([pid]);
    expect(violations).toEqual([]);
    again.abort();
    await adopt;
  });

  it('a watch that fails (its host stopped answering) ends its worker; the same attempt placed on another host waits until it is gone', async () => {
    const { a, b, db, clock, deps, violations, input } = bed();
    const run1 = runAgent(deps, input(0, 'a'), new AbortController().signal).catch((e: unknown) => e);
    await settle();
    expect(a.alive('T1')).toHaveLength(1);
    a.down = true;
    clock.advance(60_000);
    expect(await run1).toBeInstanceOf(HostUnreachableError);
    await settle();
    expect(pendingKillGroups(db).map((g) => g.host)).toEqual(['a']);
    // The task's next try of the same attempt lands on host b: the recorded worker is a's, never taken for dead on b.
    const second = new AbortController();
    cleanups.push(() => second.abort());
    const run2 = runAgent(deps, input(0, 'b'), second.signal).catch((e: unknown) => e);
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      await settle();
    }
    expect(b.alive('T1')).toEqual([]);
    a.down = false;
    for (let i = 0; i < 3 && b.alive('T1').length === 0; i++) {
      clock.advance(60_000);
      await settle();
    }
    expect(a.alive('T1')).toEqual([]);
    expect(b.alive('T1')).toHaveLength(1);
    expect(violations).toEqual([]);
    second.abort();
    await run2;
  });
});
