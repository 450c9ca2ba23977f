import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { assignShards, isShardId, SHARD_FANOUT } from '../../machines/engine.js';
import type { TaskBoot } from '../../machines/effects.js';
import { liveTaskRefs } from '../../src/runtime/engine.js';
import { crashy, start } from './engine-harness.js';
import { restorable } from '../../machines/restorable.js';

const boot = (i: number): TaskBoot => ({ id: `T0-${i}`, title: `t${i}`, description: '', tier: 0, attempt: 0 });
const boots = (n: number, from = 0) => Array.from({ length: n }, (_, i) => boot(from + i));
const rootChildren = (actor: AnyActorRef) => Object.keys(actor.getSnapshot().children as object);
const shardLoads = (actor: AnyActorRef) =>
  Object.fromEntries(rootChildren(actor).filter(isShardId).map((id) => [id, Object.keys((actor.system.get(id) as AnyActorRef).getSnapshot().children).length]));

describe('shard assignment', () => {
  it('fills each shard to its size in order, then opens the next; a freed place is reused first', () => {
    const first = assignShards({}, 100, boots(250));
    expect(first.load).toEqual({ 'tasks:0': 100, 'tasks:1': 100, 'tasks:2': 50 });
    expect(first.fresh).toEqual(['tasks:0', 'tasks:1', 'tasks:2']);
    expect(first.into['tasks:2'].map((t) => t.id)).toEqual(boots(50, 200).map((t) => t.id));
    const next = assignShards({ ...first.load, 'tasks:0': 99 }, 100, boots(52, 250));
    expect(next.load).toEqual({ 'tasks:0': 100, 'tasks:1': 100, 'tasks:2': 100, 'tasks:3': 1 });
    expect(next.fresh).toEqual(['tasks:3']);
    expect(next.into['tasks:0'].map((t) => t.id)).toEqual(['T0-250']);
  });

  it('the default fan-out keeps a parent at no more than 100 children', () => {
    expect(SHARD_FANOUT).toBeLessThanOrEqual(100);
    const { load } = assignShards({}, SHARD_FANOUT, boots(1000));
    expect(Math.max(...Object.values(load))).toBeLessThanOrEqual(SHARD_FANOUT);
    expect(Object.keys(load)).toHaveLength(Math.ceil(1000 / SHARD_FANOUT));
  });
});

describe('engine with task shards', () => {
  it('places tasks in shards (no task under the root), each addressable by its unchanged system id', () => {
    const e = start({}, { tasks: boots(7), shardSize: 3 });
    expect(rootChildren(e.actor).filter((id) => id.startsWith('task:'))).toEqual([]);
    expect(shardLoads(e.actor)).toEqual({ 'tasks:0': 3, 'tasks:1': 3, 'tasks:2': 1 });
    for (const t of boots(7)) expect(e.get(`task:${t.id}`)?.id).toBe(`task:${t.id}`);
    expect(Object.keys(liveTaskRefs(e.actor)).sort()).toEqual(boots(7).map((t) => `task:${t.id}`).sort());
    // A second batch fills the open shard first; a task already alive is never spawned twice.
    e.actor.send({ type: 'tasks.spawn', tasks: [boot(0), boot(7), boot(8), boot(8)] });
    expect(shardLoads(e.actor)).toEqual({ 'tasks:0': 3, 'tasks:1': 3, 'tasks:2': 3 });
  });

  it('a kill reaches the tasks of every shard in the same call, and unkill resumes them all', () => {
    const e = start({}, { tasks: boots(10), shardSize: 4 });
    const before = Object.fromEntries(Object.entries(liveTaskRefs(e.actor)).map(([id, ref]) => [id, JSON.stringify(ref.getSnapshot().value)]));
    e.get('engineState')!.send({ type: 'engine.kill', reason: 'test', by: 'test' });
    const refs = liveTaskRefs(e.actor);
    expect(Object.keys(refs)).toHaveLength(10);
    for (const ref of Object.values(refs)) expect(ref.getSnapshot().value).toBe('held');
    e.get('engineState')!.send({ type: 'engine.unkill', by: 'test' });
    for (const [id, ref] of Object.entries(liveTaskRefs(e.actor))) expect(JSON.stringify(ref.getSnapshot().value), id).toBe(before[id]);
  });

  it('a task that finishes leaves its shard, and its place is the next task\'s', () => {
    const e = start({}, { tasks: boots(5), shardSize: 2 });
    e.get('task:T0-1')!.send({ type: 'task.abandon', reason: 'closed at the source' });
    expect(e.get('task:T0-1')).toBeUndefined();
    expect(shardLoads(e.actor)).toEqual({ 'tasks:0': 1, 'tasks:1': 2, 'tasks:2': 1 });
    e.actor.send({ type: 'tasks.spawn', tasks: [boot(9)] });
    expect(shardLoads(e.actor)).toEqual({ 'tasks:0': 2, 'tasks:1': 2, 'tasks:2': 1 });
    expect((e.get('task:T0-9') as unknown as { _parent: AnyActorRef })._parent.id).toBe('tasks:0');
  });

  it('a shard that crashes is restarted (transient) under its id with the same tasks where they were; other shards untouched', () => {
    const e = start({}, { tasks: boots(6), shardSize: 3 });
    e.get('engineState')!.send({ type: 'engine.kill', reason: 'park', by: 'test' });
    const other = e.get('task:T0-0');
    const old = e.get('task:T0-4');
    // A shard with a bug: a malformed spawn throws inside its action.
    e.get('tasks:1')!.send({ type: 'shard.spawn', tasks: null } as never);
    const shard = e.get('tasks:1')!;
    expect(shard.getSnapshot().status).toBe('active');
    expect(e.actor.getSnapshot().value).toBe('running');
    expect(e.actor.getSnapshot().context.restarts).toHaveLength(1);
    expect(e.get('task:T0-0')).toBe(other);
    for (const id of ['task:T0-3', 'task:T0-4', 'task:T0-5']) {
      const ref = e.get(id)!;
      expect(ref.getSnapshot().status, id).toBe('active');
      expect(ref.getSnapshot().value, id).toBe('held'); // restored where it was, not started afresh
    }
    expect(e.get('task:T0-4')).not.toBe(old);
    expect(e.errors).toEqual([]);
    // The restored tasks still hear the broadcast.
    e.get('engineState')!.send({ type: 'engine.unkill', by: 'test' });
    for (const id of ['task:T0-3', 'task:T0-4', 'task:T0-5']) expect(e.get(id)!.getSnapshot().value, id).not.toBe('held');
  });

  it('crashes in different shards share one restart intensity: past it the engine halts and every task is held', () => {
    const e = start({}, { tasks: boots(8), shardSize: 2, restartIntensity: { maxRestarts: 2, periodMs: 10_000 } });
    e.get('tasks:0')!.send({ type: 'shard.spawn', tasks: null } as never);
    e.get('tasks:2')!.send({ type: 'shard.spawn', tasks: null } as never);
    expect(e.actor.getSnapshot().value).toBe('running');
    e.get('tasks:3')!.send({ type: 'shard.spawn', tasks: null } as never);
    expect(e.actor.getSnapshot().value).toBe('halted');
    expect(e.get('engineState')!.getSnapshot().context.reason).toMatch(/^supervisor: tasks:3 failed past the restart intensity/);
    for (const [id, ref] of Object.entries(liveTaskRefs(e.actor))) expect(ref.getSnapshot().value, id).toBe('held');
    expect(e.errors).toEqual([]);
  });

  it('a task with a bug is restarted in its own shard; task failures in any shard count against the one intensity', () => {
    const e = start({ task: restorable(crashy('task') as never) }, { tasks: boots(6), shardSize: 2, restartIntensity: { maxRestarts: 2, periodMs: 10_000 } });
    const first = e.get('task:T0-3')!;
    first.send({ type: 'crash' });
    const second = e.get('task:T0-3')!;
    expect(second).not.toBe(first);
    expect((second as unknown as { _parent: AnyActorRef })._parent.id).toBe('tasks:1');
    e.get('task:T0-5')!.send({ type: 'crash' });
    expect(e.actor.getSnapshot().value).toBe('running');
    e.get('task:T0-0')!.send({ type: 'crash' });
    expect(e.actor.getSnapshot().value).toBe('halted');
    // Past the intensity the failed task is not restarted: its shard drops it.
    expect(e.get('task:T0-0')).toBeUndefined();
    expect(e.errors).toEqual([]);
  });
});
