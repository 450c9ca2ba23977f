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
}

export interface EngineContext {
  permanent: ChildSpec[];
  taskPolicy: TaskPolicy;
  /** Task ids alive as actors, with what is needed to restart one (transient: abnormal exits only). */
  tasks: Record<string, Omit<TaskBoot, 'restore'>>;
  restarts: number[];
  intensity: { maxRestarts: number; periodMs: number };
  haltReason: string | null;
}

type ActorDone = { type: `xstate.done.actor.${string}`; actorId: string; output: unknown };
type ActorError = { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

export type EngineEvent =
  | { type: 'tasks.spawn'; tasks: TaskBoot[] }
  | { type: 'engine.halt'; reason: string }
  | ActorDone
  | ActorError;

const taskId = (actorId: string) => actorId.slice('task:'.length);

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
 * The root supervisor (systemId "engine"). Spawns engineState first, then hosts, background
 * concerns and tasks. OTP one-for-one: a failing child is restarted while the restart
 * intensity allows, past it the engine halts cleanly by setting the killswitch with a reason.
 * Children are persisted one by one, never through this actor's snapshot.
 */
export const engineMachine = setup({
  types: { context: {} as EngineContext, input: {} as EngineInput, events: {} as EngineEvent },
  // A task restores from its own persisted snapshot when spawned (restorable).
  actors: { ...CHILD_MACHINES, task: restorable(taskMachine) },
  actions: {
    // context.tasks is the live set (the snapshot cannot be read while the engine initializes).
    spawnTasks: enqueueActions(({ enqueue, context }, params: { tasks: TaskBoot[] }) => {
      const added: Record<string, Omit<TaskBoot, 'restore'>> = {};
      for (const t of params.tasks) {
        const id = `task:${t.id}`;
        if (context.tasks[t.id] || added[t.id]) continue; // never two actors for one T-id
        enqueue.spawnChild('task', {
          id,
          systemId: id,
          input: { id: t.id, title: t.title, description: t.description, tier: t.tier, attempt: t.attempt, policy: context.taskPolicy, restore: t.restore } as never,
        });
        const { restore: _restore, ...boot } = t;
        added[t.id] = boot;
      }
      enqueue.assign({ tasks: { ...context.tasks, ...added } });
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
    tasks: {},
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
        'xstate.done.actor.*': {
          actions: enqueueActions(({ enqueue, event, context, system }) => {
            const id = (event as ActorDone).actorId;
            enqueue.stopChild(id);
            if (id.startsWith('task:')) {
              const { [taskId(id)]: _gone, ...rest } = context.tasks;
              enqueue.assign({ tasks: rest });
              // A slot or a live-set place just freed: refill now, not at the next interval.
              const seeder = system.get('seeder') as AnyActorRef | undefined;
              if (seeder) enqueue.sendTo(seeder, { type: 'seeder.poke' });
            }
          }),
        },
        'xstate.error.actor.*': {
          actions: enqueueActions(({ enqueue, event, context, system }) => {
            const id = (event as ActorError).actorId;
            const now = nowOf(system);
            const recent = context.restarts.filter((t) => now - t < context.intensity.periodMs);
            if (recent.length >= context.intensity.maxRestarts) {
              const { maxRestarts, periodMs } = context.intensity;
              enqueue.raise({ type: 'engine.halt', reason: `supervisor: ${id} failed past the restart intensity (${maxRestarts} in ${periodMs} ms): ${String((event as ActorError).error)}` });
              return;
            }
            enqueue.assign({ restarts: [...recent, now] });
            enqueue.stopChild(id);
            if (id.startsWith('task:')) {
              const boot = context.tasks[taskId(id)];
              if (boot) enqueue.spawnChild('task', { id, systemId: id, input: { ...boot, policy: context.taskPolicy } as never });
              return;
            }
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
        'xstate.done.actor.*': { actions: enqueueActions(({ enqueue, event }) => enqueue.stopChild((event as ActorDone).actorId)) },
        'xstate.error.actor.*': { actions: enqueueActions(({ enqueue, event }) => enqueue.stopChild((event as ActorError).actorId)) },
      },
    },
  },
});

export type EngineMachine = typeof engineMachine;
