import { enqueueActions, sendParent, setup, type AnyActorRef } from 'xstate';
import type { TaskBoot } from './effects.js';
import { restorable } from './restorable.js';
import { taskMachine, type TaskPolicy } from './task.js';

/** A task as its shard keeps it: what is needed to restart it (transient: abnormal exits only). */
export type ShardTask = Omit<TaskBoot, 'restore'>;

export interface TaskShardInput {
  policy: TaskPolicy;
  tasks: TaskBoot[];
}

export interface TaskShardContext {
  policy: TaskPolicy;
  tasks: Record<string, ShardTask>;
}

type ActorDone = { type: `xstate.done.actor.${string}`; actorId: string; output: unknown };
type ActorError = { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

export type TaskShardEvent =
  | { type: 'shard.spawn'; tasks: TaskBoot[] }
  /** The engine's answer to `shard.taskFailed`: within the restart intensity, so restart it. */
  | { type: 'shard.restart'; actorId: string }
  /** The engine's answer past the intensity (or once halted): stop it, no restart. */
  | { type: 'shard.drop'; actorId: string }
  | ActorDone
  | ActorError;

/** What a shard tells the engine. */
export type ShardReport =
  | { type: 'shard.taskDone'; shard: string; taskId: string }
  | { type: 'shard.taskFailed'; shard: string; actorId: string; error: unknown };

const taskIdOf = (actorId: string) => actorId.slice('task:'.length);

/** The boot of a task as spawned: its actor id and system id stay `task:<id>`, whatever shard holds it. */
function taskSpawn(t: TaskBoot, policy: TaskPolicy) {
  const id = `task:${t.id}`;
  return { id, systemId: id, input: { id: t.id, title: t.title, description: t.description, tier: t.tier, attempt: t.attempt, policy, restore: t.restore } as never };
}

/**
 * A supervisor for at most a bucket of live tasks (the engine fills each to its fan-out). xstate copies a
 * parent's children map on every spawn and stop, so one parent of N tasks makes spawning and stopping O(N²);
 * with shards each copy is bounded by the fan-out and the whole is O(N). Tasks keep their system ids
 * (`task:<id>`), so the persister, `oxi send` and the kill broadcast (engineState's emit, heard by every task's
 * killListener at any depth) do not see the shard. Restart intensity stays the engine's: a failed task is
 * reported and restarted only on the engine's answer.
 */
export const taskShardMachine = setup({
  types: { context: {} as TaskShardContext, input: {} as TaskShardInput, events: {} as TaskShardEvent },
  actors: { task: restorable(taskMachine) },
  actions: {
    spawnTasks: enqueueActions(({ enqueue, context }, params: { tasks: TaskBoot[] }) => {
      const added: Record<string, ShardTask> = {};
      for (const t of params.tasks) {
        if (context.tasks[t.id] || added[t.id]) continue; // never two actors for one T-id
        enqueue.spawnChild('task', taskSpawn(t, context.policy));
        const { restore: _restore, ...boot } = t;
        added[t.id] = boot;
      }
      enqueue.assign({ tasks: { ...context.tasks, ...added } });
    }),
  },
}).createMachine({
  id: 'taskShard',
  context: ({ input }) => ({ policy: input.policy, tasks: {} }),
  entry: { type: 'spawnTasks', params: ({ event }) => ({ tasks: (event as unknown as { input: TaskShardInput }).input.tasks }) },
  on: {
    'shard.spawn': { actions: { type: 'spawnTasks', params: ({ event }) => ({ tasks: event.tasks }) } },
    'xstate.done.actor.*': {
      actions: enqueueActions(({ enqueue, event, context, self }) => {
        const id = (event as ActorDone).actorId;
        enqueue.stopChild(id);
        const { [taskIdOf(id)]: _gone, ...rest } = context.tasks;
        enqueue.assign({ tasks: rest });
        enqueue(sendParent({ type: 'shard.taskDone', shard: self.id, taskId: taskIdOf(id) } satisfies ShardReport));
      }),
    },
    'xstate.error.actor.*': {
      actions: sendParent(({ event, self }) => ({ type: 'shard.taskFailed', shard: self.id, actorId: (event as ActorError).actorId, error: (event as ActorError).error }) satisfies ShardReport),
    },
    'shard.restart': {
      actions: enqueueActions(({ enqueue, event, context }) => {
        const boot = context.tasks[taskIdOf(event.actorId)];
        enqueue.stopChild(event.actorId);
        if (boot) enqueue.spawnChild('task', taskSpawn(boot, context.policy));
      }),
    },
    'shard.drop': {
      actions: enqueueActions(({ enqueue, event, context }) => {
        enqueue.stopChild(event.actorId);
        const { [taskIdOf(event.actorId)]: _gone, ...rest } = context.tasks;
        enqueue.assign({ tasks: rest });
      }),
    },
  },
});

/** The live task refs of a shard (its children): read by the engine handle, never persisted. */
export function shardTasks(shard: AnyActorRef): Record<string, AnyActorRef> {
  return (shard.getSnapshot()?.children ?? {}) as Record<string, AnyActorRef>;
}
