import { assign, enqueueActions, setup, type AnyActorRef } from 'xstate';
import { deadmanMachine } from './deadman.js';
import type { TaskBoot } from './effects.js';
import { engineStateMachine, type EngineStateInput } from './engine-state.js';
import { hostMachine, type HostInput } from './host.js';
import { oauthWatchMachine } from './oauth-watch.js';
import { prWatcherMachine } from './pr-watcher.js';
import { promoterMachine, type PromoterInput } from './promoter.js';
import { reaperMachine } from './reaper.js';
import { restorable } from './restorable.js';
import { seederMachine } from './seeder.js';
import { taskMachine, type TaskPolicy } from './task.js';
import { taskShardMachine, type ShardReport } from './task-shard.js';
import { nowOf } from './time.js';

/** A permanent child: restarted whenever it fails (hosts and background concerns). */
export interface ChildSpec {
  src: 'engineState' | 'host' | 'seeder' | 'reaper' | 'prWatcher' | 'deadman' | 'oauthWatch' | 'promoter';
  id: string;
  input: unknown;
}

export interface EngineInput {
  engineState: EngineStateInput;
  hosts: HostInput[];
  /** One promoter per promote recipe (none when the adapter has no `promote`). Optional: older inputs lack it. */
  promoters?: PromoterInput[];
  intervals: { seedMs: number; reaperMs: number; prWatchMs: number; deadmanMs: number; oauthMs: number };
  taskPolicy: TaskPolicy;
  tasks: TaskBoot[];
  restartIntensity: { maxRestarts: number; periodMs: number };
  /** Live tasks per shard supervisor (default SHARD_FANOUT); Infinity gives one flat shard (the O(N²) baseline). */
  shardSize?: number;
}

/** Tasks per shard: xstate copies a parent's children map on each spawn/stop, so this bounds that copy. */
export const SHARD_FANOUT = 100;

export interface EngineContext {
  permanent: ChildSpec[];
  taskPolicy: TaskPolicy;
  /** Live tasks per shard id (`tasks:0`, `tasks:1`, …): where the next task goes. The tasks themselves are the shards'. */
  shards: Record<string, number>;
  shardSize: number;
  restarts: number[];
  intensity: { maxRestarts: number; periodMs: number };
  haltReason: string | null;
}

type ActorDone = { type: `xstate.done.actor.${string}`; actorId: string; output: unknown };
type ActorError = { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

export type EngineEvent =
  | { type: 'tasks.spawn'; tasks: TaskBoot[] }
  | { type: 'engine.halt'; reason: string }
  | ShardReport
  | ActorDone
  | ActorError;

const SHARD = 'tasks:';
export const isShardId = (actorId: string) => actorId.startsWith(SHARD);

/** The machines the engine supervises, by the `machine` name the persister records (tree order). */
export const CHILD_MACHINES = {
  engineState: engineStateMachine,
  task: taskMachine,
  host: hostMachine,
  seeder: seederMachine,
  reaper: reaperMachine,
  prWatcher: prWatcherMachine,
  deadman: deadmanMachine,
  oauthWatch: oauthWatchMachine,
  promoter: promoterMachine,
};

/**
 * Places new tasks in shards: each shard with room is filled up to the fan-out in id order, then new shards
 * open. Pure: returns the spawns for new shards and the sends for existing ones, and the new loads.
 */
export function assignShards(shards: Record<string, number>, size: number, tasks: TaskBoot[]) {
  const load = { ...shards };
  const into: Record<string, TaskBoot[]> = {};
  const open = Object.keys(load).filter((id) => load[id] < size);
  let next = Object.keys(load).reduce((n, id) => Math.max(n, Number(id.slice(SHARD.length)) + 1), 0);
  for (const t of tasks) {
    while (open.length && load[open[0]] >= size) open.shift();
    if (!open.length) {
      open.push(`${SHARD}${next}`);
      load[`${SHARD}${next++}`] = 0;
    }
    const id = open[0];
    load[id]++;
    (into[id] ??= []).push(t);
  }
  const fresh = Object.keys(into).filter((id) => !(id in shards));
  return { load, into, fresh };
}

/** A crashed shard's tasks, each to resume from its last in-memory snapshot (its actor was stopped with the shard). */
function tasksOfCrashedShard(shard: AnyActorRef | undefined): TaskBoot[] {
  const snap = shard?.getSnapshot() as { context?: { tasks?: Record<string, Omit<TaskBoot, 'restore'>> }; children?: Record<string, AnyActorRef> } | undefined;
  const boots = Object.values(snap?.context?.tasks ?? {});
  return boots.map((b) => {
    const ref = snap?.children?.[`task:${b.id}`];
    const persisted = ref?.getPersistedSnapshot() as { status?: string } | undefined;
    // Stopped with its shard, not finished: it resumes active, where it was.
    return persisted && persisted.status !== 'error' ? { ...b, restore: { ...persisted, status: 'active' } } : b;
  });
}

/**
 * The root supervisor (systemId "engine"). Spawns engineState first, then hosts, background
 * concerns, and task shards (each a supervisor of up to `shardSize` tasks). OTP one-for-one: a
 * failing child (a task reported by its shard, a shard, a permanent child) is restarted while the
 * restart intensity allows, past it the engine halts cleanly by setting the killswitch with a reason.
 * Children are persisted one by one, never through this actor's snapshot.
 */
export const engineMachine = setup({
  types: { context: {} as EngineContext, input: {} as EngineInput, events: {} as EngineEvent },
  // A task restores from its own persisted snapshot when spawned (restorable).
  actors: { ...CHILD_MACHINES, task: restorable(taskMachine), taskShard: taskShardMachine },
  actions: {
    // Counts, not tasks, live here: copying a record of every live task on each spawn would be O(N²) again.
    spawnTasks: enqueueActions(({ enqueue, context, system }, params: { tasks: TaskBoot[] }) => {
      const seen = new Set<string>();
      // Never two actors for one T-id: a task alive anywhere is registered under its system id.
      const tasks = params.tasks.filter((t) => !seen.has(t.id) && (seen.add(t.id), !system.get(`task:${t.id}`)));
      if (!tasks.length) return;
      const { load, into, fresh } = assignShards(context.shards, context.shardSize, tasks);
      for (const [id, batch] of Object.entries(into)) {
        if (fresh.includes(id)) enqueue.spawnChild('taskShard', { id, systemId: id, input: { policy: context.taskPolicy, tasks: batch } });
        else enqueue.sendTo(system.get(id) as AnyActorRef, { type: 'shard.spawn', tasks: batch });
      }
      enqueue.assign({ shards: load });
    }),
  },
}).createMachine({
  id: 'engine',
  context: ({ input }) => ({
    permanent: [
      { src: 'engineState', id: 'engineState', input: input.engineState },
      ...input.hosts.map((h): ChildSpec => ({ src: 'host', id: `host:${h.name}`, input: h })),
      { src: 'seeder', id: 'seeder', input: { intervalMs: input.intervals.seedMs } },
      { src: 'reaper', id: 'reaper', input: { intervalMs: input.intervals.reaperMs } },
      { src: 'prWatcher', id: 'prWatcher', input: { intervalMs: input.intervals.prWatchMs } },
      { src: 'deadman', id: 'deadman', input: { intervalMs: input.intervals.deadmanMs } },
      { src: 'oauthWatch', id: 'oauthWatch', input: { intervalMs: input.intervals.oauthMs } },
      ...(input.promoters ?? []).map((p): ChildSpec => ({ src: 'promoter', id: `promoter:${p.name}`, input: p })),
    ],
    taskPolicy: input.taskPolicy,
    shards: {},
    shardSize: Math.max(1, input.shardSize ?? SHARD_FANOUT),
    restarts: [],
    intensity: input.restartIntensity,
    haltReason: null,
  }),
  initial: 'running',
  // Start order matters: engineState first, so every later child's killListener finds it.
  entry: [
    enqueueActions(({ enqueue, context }) => {
      for (const spec of context.permanent) enqueue.spawnChild(spec.src, { id: spec.id, systemId: spec.id, input: spec.input as never });
    }),
    { type: 'spawnTasks', params: ({ event }) => ({ tasks: (event as unknown as { input: EngineInput }).input.tasks }) },
  ],
  states: {
    running: {
      on: {
        'tasks.spawn': { actions: { type: 'spawnTasks', params: ({ event }) => ({ tasks: event.tasks }) } },
        'shard.taskDone': {
          actions: enqueueActions(({ enqueue, event, context, system }) => {
            enqueue.assign({ shards: { ...context.shards, [event.shard]: Math.max(0, (context.shards[event.shard] ?? 1) - 1) } });
            // A slot or a live-set place just freed: refill now, not at the next interval.
            const seeder = system.get('seeder') as AnyActorRef | undefined;
            if (seeder) enqueue.sendTo(seeder, { type: 'seeder.poke' });
          }),
        },
        'shard.taskFailed': {
          actions: enqueueActions(({ enqueue, event, context, system }) => {
            const shard = system.get(event.shard) as AnyActorRef | undefined;
            if (!restartAllowed(enqueue, context, nowOf(system), event.actorId, event.error)) {
              if (shard) enqueue.sendTo(shard, { type: 'shard.drop', actorId: event.actorId });
              return;
            }
            if (shard) enqueue.sendTo(shard, { type: 'shard.restart', actorId: event.actorId });
          }),
        },
        'xstate.done.actor.*': { actions: enqueueActions(({ enqueue, event }) => enqueue.stopChild((event as ActorDone).actorId)) },
        'xstate.error.actor.*': {
          actions: enqueueActions(({ enqueue, event, context, system, self }) => {
            const id = (event as ActorError).actorId;
            if (!restartAllowed(enqueue, context, nowOf(system), id, (event as ActorError).error)) return;
            if (isShardId(id)) {
              // Transient like its tasks: the shard comes back under its id, holding the same tasks where they were.
              const tasks = tasksOfCrashedShard((self.getSnapshot().children as Record<string, AnyActorRef>)[id]);
              enqueue.stopChild(id);
              enqueue.spawnChild('taskShard', { id, systemId: id, input: { policy: context.taskPolicy, tasks } });
              return;
            }
            enqueue.stopChild(id);
            const spec = context.permanent.find((s) => s.id === id);
            if (spec) enqueue.spawnChild(spec.src, { id: spec.id, systemId: spec.id, input: spec.input as never });
          }),
        },
        'engine.halt': { target: 'halted', actions: assign({ haltReason: ({ event }) => event.reason }) },
      },
    },
    // Escalation: the killswitch is set with the reason; the daemon persists, notifies and exits.
    halted: {
      entry: enqueueActions(({ enqueue, context, system }) => {
        const engineState = system.get('engineState') as AnyActorRef | undefined;
        if (engineState) enqueue.sendTo(engineState, { type: 'engine.kill', reason: context.haltReason ?? 'halted', by: 'supervisor', hard: false });
      }),
      on: {
        'shard.taskFailed': {
          actions: enqueueActions(({ enqueue, event, system }) => {
            const shard = system.get(event.shard) as AnyActorRef | undefined;
            if (shard) enqueue.sendTo(shard, { type: 'shard.drop', actorId: event.actorId });
          }),
        },
        'xstate.done.actor.*': { actions: enqueueActions(({ enqueue, event }) => enqueue.stopChild((event as ActorDone).actorId)) },
        'xstate.error.actor.*': { actions: enqueueActions(({ enqueue, event }) => enqueue.stopChild((event as ActorError).actorId)) },
      },
    },
  },
});

/** OTP intensity: a restart is allowed while fewer than maxRestarts happened in the period; past it, the engine halts. */
function restartAllowed(
  enqueue: { assign: (a: Partial<EngineContext>) => void; raise: (e: EngineEvent) => void },
  context: EngineContext,
  now: number,
  id: string,
  error: unknown,
): boolean {
  const recent = context.restarts.filter((t) => now - t < context.intensity.periodMs);
  if (recent.length >= context.intensity.maxRestarts) {
    const { maxRestarts, periodMs } = context.intensity;
    enqueue.raise({ type: 'engine.halt', reason: `supervisor: ${id} failed past the restart intensity (${maxRestarts} in ${periodMs} ms): ${String(error)}` });
    return false;
  }
  enqueue.assign({ restarts: [...recent, now] });
  return true;
}

export type EngineMachine = typeof engineMachine;

/** The engine with `task` implemented by `task` in every shard (shards spawn tasks from their own setup). */
export function withTaskLogic(engine: EngineMachine, task: unknown, actors: Record<string, unknown> = {}): EngineMachine {
  return engine.provide({ actors: { ...actors, task, taskShard: taskShardMachine.provide({ actors: { task } as never }) } as never });
}
