import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { restorable } from '../../machines/restorable.js';
import { liveTaskRefs } from '../../src/runtime/engine.js';

import { crashy, start } from './engine-harness.js';

describe('engine supervision (contract 3.4)', () => {
  it('restarts a failing permanent child one-for-one, leaving its siblings alone', () => {
    const e = start({ host: crashy('host') });
    const task = e.get('task:T1');
    const first = e.get('host:local');
    first!.send({ type: 'crash' });
    const second = e.get('host:local');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(second!.getSnapshot().status).toBe('active');
    expect(e.get('task:T1')).toBe(task); // siblings untouched
    expect(e.actor.getSnapshot().value).toBe('running');
    expect(e.errors).toEqual([]);
  });

  it('past the restart intensity it halts cleanly: the killswitch is set with the reason, nothing crashes', () => {
    const e = start({ host: crashy('host') });
    for (let i = 0; i < 3; i++) e.get('host:local')!.send({ type: 'crash' });
    expect(e.actor.getSnapshot().value).toBe('running');
    e.get('host:local')!.send({ type: 'crash' });
    expect(e.actor.getSnapshot().value).toBe('halted');
    const engineState = e.get('engineState')!.getSnapshot();
    expect(engineState.value).toBe('killed');
    expect(engineState.context.reason).toMatch(/^supervisor: host:local failed past the restart intensity \(3 in 10000 ms\): Error: host bug/);
    expect(e.get('task:T1')!.getSnapshot().value).toBe('held'); // every actor honours the halt
    expect(e.errors).toEqual([]);
  });

  it('restarts in a fresh period are allowed again (intensity is a rate, not a lifetime count)', () => {
    const e = start({ host: crashy('host') });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) e.get('host:local')!.send({ type: 'crash' });
      e.clock.advance(10_001);
    }
    expect(e.actor.getSnapshot().value).toBe('running');
  });

  it('a task with a bug is restarted (transient) from its boot input, under its own id', () => {
    const e = start({ task: restorable(crashy('task') as never) });
    const first = e.get('task:T1');
    first!.send({ type: 'crash' });
    const second = e.get('task:T1');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(second!.getSnapshot().status).toBe('active');
  });

  it('never spawns two actors for one T-id, and removes a task that reached a final state', () => {
    const finishing = setup({}).createMachine({ id: 'task', initial: 'on', states: { on: { on: { finish: 'done' } }, done: { type: 'final' } } });
    const e = start({ task: restorable(finishing as never) });
    const boot = (id: string) => ({ id, title: id, description: '', tier: 0, attempt: 0 });
    e.actor.send({ type: 'tasks.spawn', tasks: [boot('T1'), boot('T2'), boot('T2')] });
    const live = () => Object.keys(liveTaskRefs(e.actor)).sort();
    expect(live()).toEqual(['task:T1', 'task:T2']);
    e.get('task:T2')!.send({ type: 'finish' });
    expect(live()).toEqual(['task:T1']);
    expect(Object.values(e.actor.getSnapshot().context.shards)).toEqual([1]);
    e.actor.send({ type: 'tasks.spawn', tasks: [boot('T1')] });
    expect(live()).toEqual(['task:T1']);
  });
});
