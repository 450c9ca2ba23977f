import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import { MAX_ENV_WAITS, taskMachine } from '../../machines/task.js';
import { isEnvFail, recordingActor, serializeTask, taskEvents, taskInput } from '../helpers/machine-events.js';

const paths = getShortestPaths(taskMachine, { input: taskInput, events: taskEvents as never, serializeState: serializeTask as never });
const killed = (e: { type: string }) => e.type === 'engine.killed';
const resumed = (e: { type: string }) => e.type === 'engine.resumed';

describe('task machine, model-based (xstate/graph)', () => {
  it('reaches every lifecycle state', () => {
    const seen = new Set(paths.map((p) => (typeof p.state.value === 'string' ? p.state.value : Object.values(p.state.value)[0])));
    for (const s of ['planning', 'waiting', 'deferred', 'provisioning', 'working', 'shipping', 'pr_open', 'checks', 'reviewing', 'pr_backoff', 'merging', 'awaiting_human', 'backoff', 'held', 'merged', 'abandoned']) {
      expect(seen, `state ${s} unreachable`).toContain(s);
    }
  });

  it('starts no effect after engine.killed until engine.resumed, on every path, whatever arrives meanwhile', () => {
    let checkedHeld = 0;
    for (const path of paths) {
      const run = recordingActor(taskMachine, taskInput);
      let killedAt: number | null = null;
      for (const { event } of path.steps.slice(1)) {
        run.send(event);
        if (killed(event)) killedAt = run.step;
        if (resumed(event)) killedAt = null;
      }
      if (run.actor.getSnapshot().value !== 'held') continue;
      // While held, throw every event of the model at it: nothing may start, nothing may move it but resume.
      const before = run.starts.length;
      // (error events are left out: they only come from a running effect, and held has none.)
      for (const event of taskEvents.filter((e: { type: string }) => !resumed(e) && !e.type.startsWith('xstate.error'))) run.send(event);
      expect(run.starts.slice(before), `path ${path.steps.map((s) => s.event.type).join(' → ')}`).toEqual([]);
      expect(run.actor.getSnapshot().value).toBe('held');
      expect(Object.keys(run.actor.getSnapshot().children)).toEqual(['kill']);
      expect(killedAt).not.toBeNull();
      checkedHeld++;
    }
    expect(checkedHeld).toBeGreaterThan(5);
  });

  it('resumes exactly where it was: held → resumed returns to the state it was killed in', () => {
    for (const path of paths) {
      const last = path.steps[path.steps.length - 1];
      if (!killed(last.event)) continue;
      const before = path.steps[path.steps.length - 2].state;
      const run = recordingActor(taskMachine, taskInput);
      for (const { event } of path.steps.slice(1)) run.send(event);
      run.send({ type: 'engine.resumed' });
      expect(run.actor.getSnapshot().value).toEqual(before.value);
    }
  });

  it('never dispatches more than the retry policy allows (no thrash), over random walks of failures', () => {
    // Simple paths explode combinatorially; seeded random walks cover the failure interleavings instead.
    let seed = 0x5eed;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const events = taskEvents.filter((e: { type: string }) => !e.type.startsWith('engine.'));
    const { maxAttempts, maxFixAttempts } = taskInput.policy;
    for (let walk = 0; walk < 1500; walk++) {
      const run = recordingActor(taskMachine, taskInput);
      for (let i = 0; i < 80 && run.actor.getSnapshot().status === 'active'; i++) {
        const enabled = events.filter((e) => run.actor.getSnapshot().can(e as never));
        if (!enabled.length) break;
        const event = enabled[Math.floor(rand() * enabled.length)];
        const before = run.actor.getSnapshot().context;
        run.send(event);
        if (isEnvFail(event as never) && before.envWaits < MAX_ENV_WAITS) {
          // An environment error is not the task's: within its bound it spends neither an attempt nor a fix attempt.
          expect(run.actor.getSnapshot().context.attempt, `walk ${walk}`).toBe(before.attempt);
          expect(run.actor.getSnapshot().context.fix, `walk ${walk}`).toBe(before.fix);
        }
      }
      // The policy's bound, plus the environment errors a task may wait out over its life.
      const dispatches = run.starts.filter((s) => s.effect === 'provision').length;
      expect(run.actor.getSnapshot().context.attempt, `walk ${walk} (seed 0x5eed)`).toBeLessThan(maxAttempts);
      expect(run.actor.getSnapshot().context.envWaits, `walk ${walk} (seed 0x5eed)`).toBeLessThanOrEqual(MAX_ENV_WAITS);
      expect(dispatches, `walk ${walk} (seed 0x5eed)`).toBeLessThanOrEqual(maxAttempts * (maxFixAttempts + 1) + MAX_ENV_WAITS);
      run.actor.stop();
    }
  });
});
