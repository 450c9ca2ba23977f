import { createActor, type AnyActorRef, type InspectionEvent } from 'xstate';
import { makeEffects, type EffectDeps } from '../../actors/index.js';
import { restoreList } from '../../actors/effects/background.js';
import { engineMachine, isShardId, withTaskLogic, type EngineInput } from '../../machines/engine.js';
import { effectPlaceholders } from '../../machines/effects.js';
import { PR_STATES, SLOT_STATES, taskMachine } from '../../machines/task.js';
import { hostMachine } from '../../machines/host.js';
import { seederMachine } from '../../machines/seeder.js';
import { reaperMachine } from '../../machines/reaper.js';
import { prWatcherMachine } from '../../machines/pr-watcher.js';
import { deadmanMachine } from '../../machines/deadman.js';
import { oauthWatchMachine } from '../../machines/oauth-watch.js';
import { promoterMachine } from '../../machines/promoter.js';
import { promoteName, promoteRecipes } from '../config/promote.js';
import { restorable } from '../../machines/restorable.js';
import { hasClock } from '../../machines/time.js';
import type { Clock } from '../clock.js';
import type { Adapter } from '../config/schema.js';
import type { Db } from '../store/db.js';
import { listTasks } from '../store/tasks.js';
import { readKillState, writeKillFile } from './killswitch.js';
import { createPersister, type CommittedChange } from '../store/persister.js';
import { dispatchOrder } from '../dispatch/order.js';
import { GroupTerminator } from '../../actors/hosts/kill-groups.js';
import { DispatchPool, type PoolOptions } from '../dispatch/pool.js';
import { hostHasRepo, isMultiRepo, repoOfTask } from '../config/repos.js';
import { buildPorts, type PortOverrides } from './ports.js';
import { episodeRecorder } from '../memory/episodes.js';
import { dailyBudgetGate, repoBudgetGate } from '../dispatch/budget.js';
import { EnvironmentGate } from '../gates/environment-gate.js';
import { inferenceClient } from '../../actors/inference/client.js';
import { createTriage, type Triage } from '../../actors/inference/triage.js';
import { readKillswitch } from '../store/engine-state.js';
import { interruptShadows } from '../../actors/effects/shadow.js';
import { runningShadowPairs } from '../store/shadow.js';
import { endInterruptedPromotes } from '../../actors/effects/promote-recovery.js';

export interface StartEngineOptions extends PortOverrides {
  adapter: Adapter;
  db: Db;
  clock: Clock;
  /** Replace some effects (tests, simulations). */
  effects?: Partial<typeof effectPlaceholders>;
  /** An extra inspection observer (dashboard, Stately inspector). */
  inspect?: (event: InspectionEvent) => void;
  /** Called when a write fails: the caller must stop the process (the DB is the truth). */
  onFatal?: (error: unknown) => void;
  /** Live tasks per shard supervisor (bench: Infinity gives the flat, O(N²) baseline). */
  shardSize?: number;
  /** Poll period of worker watching; simulations with a simulated clock use a coarser one. */
  watchIntervalMs?: number;
  /** Operator-facing lines (the daemon's stderr). */
  log?: (line: string) => void;
  /** Where the inference gateway reads its API key at each call (default: this process's environment). */
  inferenceEnv?: Record<string, string | undefined>;
}

const SLOT = new Set<string>(SLOT_STATES);
const PAST_SLOT = new Set<string>([...PR_STATES, 'awaiting_human']);

/**
 * Boots the supervision tree: killswitch from DB + file, tasks restored from their own
 * snapshots, leases rebuilt from rows, every transition persisted by the persister.
 */
export interface EngineHandle {
  actor: AnyActorRef;
  db: Db;
  pool: DispatchPool;
  persister: ReturnType<typeof createPersister>;
  ports: ReturnType<typeof buildPorts>;
  readonly failure: unknown;
  onCommit(listener: (changes: CommittedChange[]) => void): () => void;
  send(actorId: string, event: { type: string; [k: string]: unknown }): boolean;
  liveTasks(): Array<{ id: string; status: string }>;
  engineStatus(): string;
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** What the engine's parts share once started: the root actor (set after createActor), the drain flag, promises to await at stop. */
interface Running {
  actor?: AnyActorRef;
  draining: boolean;
  /** The engine is stopping (a restart, or the end of a drain): workers stay for the next run to adopt. */
  stopping?: boolean;
  pending: Set<Promise<unknown>>;
  /** Aborted at stop: shadow runs end first. */
  shadows: AbortController;
}

/** Keeps a promise until it settles; both outcomes handled, so a tracked rejection never goes unhandled. */
function track(running: Running, p: Promise<unknown>): void {
  running.pending.add(p);
  p.then(
    () => running.pending.delete(p),
    () => running.pending.delete(p),
  );
}

function createPool(adapter: Adapter, db: Db, clock: Clock, ports: ReturnType<typeof buildPorts>, running: Running): DispatchPool {
  const pool: DispatchPool = new DispatchPool({
    clock,
    planTierMax: adapter.planTier.maxWorkers,
    overlapDeferMs: Math.max(1000, Math.min(adapter.engine.backoffBaseMs, 30_000)),
    // Every repository's forge: the overlap gate then compares only tasks of the same repository (sameRepo).
    openPrFiles: async () => (await Promise.all([...ports.forges.values()].map((f) => f.listOpenPrs()))).flat().map((p) => ({ task: p.task, files: p.files })),
    // Sessions in flight (and the one asking) may each still spend their per-task cap: reserve it, so no day ends past the hard cap (the gate adds running shadows).
    budget: dailyBudgetGate({ db, clock, budget: adapter.budget, notifier: ports.notifier, reservedUsd: () => (pool.inFlight() + 1) * adapter.budget.perTaskUsd }),
    onLeases: (host, inUse) => running.actor?.system.get(`host:${host}`)?.send({ type: 'host.leases', inUse }),
    ...dispatchOrder(db),
    ...repoDispatch(adapter, db, clock, ports, () => pool),
  });
  return pool;
}

/** With `repos`: each repository's caps, overlap only within a repository, and hosts only for repositories they have a clone of. */
function repoDispatch(adapter: Adapter, db: Db, clock: Clock, ports: ReturnType<typeof buildPorts>, pool: () => DispatchPool): Partial<PoolOptions> {
  if (!isMultiRepo(adapter)) return {};
  const repoOf = (taskId: string) => repoOfTask(adapter, taskId);
  const repoBudget = repoBudgetGate({ db, clock, adapter, notifier: ports.notifier, inFlight: (repo) => pool().inFlightWhere((id) => repoOf(id) === repo) });
  return {
    ...(repoBudget ? { repoBudget } : {}),
    sameRepo: (a, b) => repoOf(a) === repoOf(b),
    hostServes: (host, taskId) => hostHasRepo(adapter, host, repoOf(taskId)),
  };
}

/** Leases are derived state: rebuilt from the task rows that hold a slot (or hold files past it). */
function restoreLeases(pool: DispatchPool, db: Db): void {
  for (const t of listTasks(db)) {
    const files: string[] = t.plan ? (JSON.parse(t.plan).files_touched ?? []) : [];
    if (SLOT.has(t.status) && t.host) pool.restoreLease(t.id, t.host, files);
    else if (t.status === 'held' && t.host && t.worker_pid !== null && t.pr === null) pool.restoreLease(t.id, t.host, files);
    else if (PAST_SLOT.has(t.status) || t.status === 'held') pool.restoreLease(t.id, null, files);
  }
}

/**
 * A hard kill terminates every worker the database records as running, watched or not (a task whose effect
 * waits for an unreachable host registers no abort handler): each group is recorded first, so one on a host out
 * of reach goes when it answers. Only rows that hold a worker (working, or held before its PR) are read.
 */
function terminateRecordedWorkers(db: Db, terminator: GroupTerminator, running: Running): void {
  for (const t of listTasks(db)) {
    if (t.worker_pid === null || !t.host) continue;
    if (t.status === 'working' || (t.status === 'held' && t.pr === null)) track(running, terminator.terminate(t.host, t.worker_pid, t.id, 'hard kill').catch(() => undefined));
  }
}

function effectDeps(o: { adapter: Adapter; db: Db; clock: Clock; pool: DispatchPool; ports: ReturnType<typeof buildPorts>; envGate: EnvironmentGate; terminator: GroupTerminator; running: Running; watchIntervalMs?: number }): EffectDeps {
  const { running, terminator } = o;
  const engineState = () => running.actor?.system.get('engineState');
  const hardKilled = () => Boolean(engineState()?.getSnapshot()?.context?.hard);
  const softKilled = () => engineState()?.getSnapshot()?.value === 'killed';
  return {
    db: o.db,
    clock: o.clock,
    adapter: o.adapter,
    pool: o.pool,
    forge: o.ports.forge,
    roadmap: o.ports.roadmap,
    forges: o.ports.forges,
    roadmaps: o.ports.roadmaps,
    hosts: o.ports.hosts,
    agents: o.ports.agents,
    notifier: o.ports.notifier,
    killed: softKilled,
    selfKill: (reason) => engineState()?.send({ type: 'engine.kill', reason, by: 'oxi' }),
    // A worker is left running (for adoption) only when the whole engine steps away: a soft kill, or a stop. A task
    // that leaves its worker on its own (reaped, abandoned, crashed) ends it: its next attempt must not start a second one.
    workerStopMode: () => (running.draining || hardKilled() || !(running.stopping || softKilled()) ? 'terminate' : 'detach'),
    track: (p) => track(running, p),
    terminateGroup: (host, pid, task) => terminator.terminate(host, pid, task, running.draining || !hardKilled() ? 'drain' : 'hard kill'),
    watchIntervalMs: o.watchIntervalMs,
    watchers: new Map(),
    shadowStop: running.shadows.signal,
    dispatchGate: o.envGate,
    agentGates: o.ports.agentGates,
  };
}

/** After each commit: leases follow task statuses, the kill file follows engineState, then the listeners. */
function onCommitted(o: { adapter: Adapter; pool: DispatchPool; listeners: Set<(changes: CommittedChange[]) => void>; hardKill: () => void }) {
  return (changes: CommittedChange[]): void => {
    let taskChanged = false;
    for (const c of changes) {
      if (c.machine === 'task') {
        taskChanged = true;
        const id = c.actor.slice('task:'.length);
        if (PAST_SLOT.has(c.status)) o.pool.releaseSlot(id);
        else if (!SLOT.has(c.status) && c.status !== 'held') o.pool.release(id);
      } else if (c.machine === 'engineState') {
        writeKillFile(o.adapter.paths.stateDir, c.status === 'killed' ? (c.context as never) : null);
        if (c.status === 'killed' && (c.context as { hard?: boolean } | undefined)?.hard) o.hardKill();
      }
    }
    // A task that left planning may free a waiter held back for it.
    if (taskChanged) o.pool.poke();
    for (const l of o.listeners) l(changes);
  };
}

const TRIAGED = new Set(['abandoned', 'awaiting_human']);

/**
 * Stuck-task triage (triage.enabled): a background concern fed by commits, never part of a transition. Off, it does
 * not exist: no client, no listener, no scan, no row.
 */
function startTriage(options: StartEngineOptions, deps: EffectDeps, listeners: Set<(changes: CommittedChange[]) => void>): Triage | undefined {
  const { adapter, db, clock } = options;
  if (!adapter.triage?.enabled) return undefined;
  // The DB row too: an `oxi kill` from another process is seen before the daemon's 250 ms poll relays it.
  const killed = () => Boolean(deps.killed?.()) || readKillswitch(db).killed;
  const client = inferenceClient({ adapter, db, clock, env: options.inferenceEnv ?? process.env, killed });
  const triage = createTriage({ adapter, db, clock, client, killed, log: options.log });
  listeners.add((changes) => {
    if (changes.some((c) => (c.machine === 'task' && TRIAGED.has(c.status)) || (c.machine === 'engineState' && c.status === 'running'))) triage.scan();
  });
  return triage;
}

function provideMachines(effects: ReturnType<typeof makeEffects>) {
  return withTaskLogic(engineMachine, restorable(taskMachine.provide({ actors: effects })), {
      host: hostMachine.provide({ actors: effects }),
      seeder: seederMachine.provide({ actors: effects }),
      reaper: reaperMachine.provide({ actors: effects }),
      prWatcher: prWatcherMachine.provide({ actors: effects }),
      deadman: deadmanMachine.provide({ actors: effects }),
      oauthWatch: oauthWatchMachine.provide({ actors: effects }),
      promoter: promoterMachine.provide({ actors: effects }),
  });
}

function engineInput(adapter: Adapter, engineState: EngineInput['engineState'], tasks: EngineInput['tasks'], shardSize?: number): EngineInput {
  const probeMs = adapter.engine.hostProbeIntervalMs;
  return {
    engineState,
    // An unreachable host is probed again within one probe interval at most: slots come back that fast after a partition heals.
    hosts: adapter.hosts.map((h) => ({ name: h.name, probeIntervalMs: probeMs, backoffBaseMs: Math.min(1000, probeMs), backoffMaxMs: probeMs })),
    // Merges are noticed by the PR watcher at its interval: the promoter looks as often.
    promoters: promoteRecipes(adapter).map((r) => ({ name: promoteName(r), schedule: r.schedule, enabled: r.enabled, intervalMs: adapter.engine.prWatchIntervalMs })),
    intervals: {
      seedMs: adapter.engine.seedIntervalMs,
      reaperMs: adapter.engine.reaperIntervalMs,
      prWatchMs: adapter.engine.prWatchIntervalMs,
      deadmanMs: Math.max(1000, Math.min(adapter.engine.deadmanMs / 4, 60_000)),
      oauthMs: 5 * 60_000,
    },
    taskPolicy: {
      maxAttempts: adapter.policy.maxAttempts,
      maxFixAttempts: adapter.policy.maxFixAttempts,
      maxPrFailures: adapter.policy.maxPrFailures,
      backoffBaseMs: adapter.engine.backoffBaseMs,
      backoffMaxMs: adapter.engine.backoffMaxMs,
      autoMerge: adapter.policy.autoMerge,
      onClosedPr: adapter.policy.onClosedPr,
    },
    tasks,
    restartIntensity: adapter.engine.restartIntensity,
    shardSize,
  };
}

export function startEngine(options: StartEngineOptions): EngineHandle {
  const { adapter, db, clock } = options;
  const ports = buildPorts(adapter, db, clock, options);
  const listeners = new Set<(changes: CommittedChange[]) => void>([episodeRecorder(adapter, db)]);
  const running: Running = { draining: false, pending: new Set(), shadows: new AbortController() };
  const pool = createPool(adapter, db, clock, ports, running);
  // A full logs disk (or no file descriptors) closes dispatch until a probe of the logs dir succeeds.
  const envGate = new EnvironmentGate({ db, clock, logsDir: adapter.paths.logs, probeIntervalMs: adapter.engine.hostProbeIntervalMs, notifier: ports.notifier, onChange: (why) => pool.setEnvironmentClosed(why) });
  restoreLeases(pool, db);
  const terminator = new GroupTerminator({ db, clock, hosts: ports.hosts, retryMs: adapter.engine.hostProbeIntervalMs, log: options.log });
  const hardKill = () => terminateRecordedWorkers(db, terminator, running);
  const deps = effectDeps({ adapter, db, clock, pool, ports, envGate, terminator, running, watchIntervalMs: options.watchIntervalMs });
  const effects = { ...makeEffects(deps), ...options.effects };
  // Shadows the last run left running were cut off: terminated, charged what they spent, recorded as interrupted.
  // Those on this machine are recorded before this call returns (so before dispatch); an SSH host's stays reserved at its cap until read.
  track(running, interruptShadows(deps));
  const persister = createPersister({ db, clock, onError: (error) => options.onFatal?.(error), onCommit: onCommitted({ adapter, pool, listeners, hardKill }) });
  const triage = startTriage(options, deps, listeners);

  const restore = restoreList({ db });
  const statusById = new Map(listTasks(db).map((t) => [t.id, t.status]));
  for (const t of restore) persister.primeStatus(`task:${t.id}`, statusById.get(t.id) ?? 'new');
  const kill = readKillState(db, adapter.paths.stateDir);
  const actor = createActor(provideMachines(effects), {
    input: engineInput(adapter, kill, restore, options.shardSize),
    clock: clock as never,
    // Named, so the ledger, the snapshots and the inspector call the root `engine` (not its session id `x:0`).
    id: 'engine',
    systemId: 'engine',
    inspect: (ev) => {
      persister.inspect(ev);
      options.inspect?.(ev);
    },
  });
  running.actor = actor;
  persister.setRoot(actor);
  if (!hasClock(actor.system)) throw new Error('startEngine: the clock must have now(): pass one from src/clock.ts.');
  let failure: unknown;
  actor.subscribe({ error: (error) => ((failure = error), options.onFatal?.(error)) });
  actor.start();
  // A hard kill set while no daemon ran (or while a worker's host was out of reach and nothing watched it): its workers go too.
  if (kill.killed && kill.hard) hardKill();
  // Groups a previous run decided to terminate (a hard kill or a drain with a host out of reach) go now, or when their host answers.
  track(running, terminator.start());
  // A promote command the last run left running (a crash, a SIGKILL) is ended and recorded as interrupted.
  track(running, endInterruptedPromotes({ db, clock, log: options.log, notifier: ports.notifier }));
  // Stops a previous run left without a summary (a crash, a kill) are asked for now, once.
  triage?.scan();
  return engineHandle({ actor, db, pool, persister, ports, listeners, envGate, terminator, running, adapter, triage, failure: () => failure });
}

function engineHandle(o: {
  actor: AnyActorRef;
  db: Db;
  pool: DispatchPool;
  persister: ReturnType<typeof createPersister>;
  ports: ReturnType<typeof buildPorts>;
  listeners: Set<(changes: CommittedChange[]) => void>;
  envGate: EnvironmentGate;
  terminator: GroupTerminator;
  running: Running;
  adapter: Adapter;
  triage?: Triage;
  failure: () => unknown;
}): EngineHandle {
  const { actor, pool, persister, ports, running } = o;
  return {
    actor,
    db: o.db,
    pool,
    persister,
    ports,
    get failure() {
      return o.failure();
    },
    onCommit(listener: (changes: CommittedChange[]) => void): () => void {
      o.listeners.add(listener);
      return () => o.listeners.delete(listener);
    },
    /** Delivers an event to a live actor by its system id (`task:T0-1`, `engineState`, ...). */
    send(actorId: string, event: { type: string; [k: string]: unknown }): boolean {
      const ref = actorId === 'engine' ? actor : actor.system.get(actorId);
      if (!ref) return false;
      ref.send(event);
      return true;
    },
    liveTasks(): Array<{ id: string; status: string }> {
      return Object.entries(liveTaskRefs(actor)).map(([k, ref]) => ({ id: k.slice(5), status: statusOfRef(ref) }));
    },
    engineStatus(): string {
      return actor.getSnapshot().value as string;
    },
    /** SIGTERM: stop dispatching, let running workers finish (bounded), then stop cleanly. */
    async drain(timeoutMs = o.adapter.engine.drainTimeoutMs): Promise<void> {
      pool.drain();
      const deadline = Date.now() + timeoutMs;
      // Shadow runs in flight finish within the same bound (then they are recorded as interrupted).
      while (Date.now() < deadline && (this.liveTasks().some((t) => SLOT.has(t.status)) || runningShadowPairs(o.db).length > 0)) await new Promise((r) => setTimeout(r, 100));
      running.draining = true;
      await this.stop();
    },
    async stop(): Promise<void> {
      running.stopping = true;
      o.envGate.stop();
      await o.triage?.stop();
      persister.pause();
      running.shadows.abort();
      actor.stop();
      await Promise.allSettled([...running.pending]);
      await o.terminator.stop();
      await ports.close();
    },
  };
}

/** Every live task actor, by its id (`task:<id>`), across the engine's shards. */
export function liveTaskRefs(root: AnyActorRef): Record<string, AnyActorRef> {
  const out: Record<string, AnyActorRef> = {};
  for (const [id, shard] of Object.entries(root.getSnapshot().children as Record<string, AnyActorRef>)) {
    if (!isShardId(id)) continue;
    for (const [k, ref] of Object.entries((shard.getSnapshot()?.children ?? {}) as Record<string, AnyActorRef>)) if (k.startsWith('task:')) out[k] = ref;
  }
  return out;
}

function statusOfRef(ref: AnyActorRef): string {
  const value = ref.getSnapshot()?.value;
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'live' in value) return String((value as { live: unknown }).live);
  return 'unknown';
}
