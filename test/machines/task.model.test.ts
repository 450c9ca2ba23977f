import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import { MAX_ENV_WAITS, MAX_STALL_WAITS, taskMachine } from '../../machines/task.js';
import { isEnvFail, isValidatedPlan, outageOfEvent, recordingActor, serializeTask, taskEvents, taskInput } from '../helpers/machine-events.js';

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

  it('never invokes runAgent without a validated plan, and an outage spends no attempt, on every shortest path', () => {
    let outages = 0;
    for (const path of paths) {
      const run = recordingActor(taskMachine, taskInput);
      for (const { event } of path.steps.slice(1)) {
        const before = run.actor.getSnapshot().context;
        run.send(event);
        const outage = outageOfEvent(event as never);
        if (outage && outage !== 'environment') {
          outages++;
          expect(run.actor.getSnapshot().context.attempt).toBe(before.attempt);
          expect(run.actor.getSnapshot().context.fix).toBe(before.fix);
        }
      }
      for (const s of run.starts.filter((x) => x.effect === 'runAgent')) expect(isValidatedPlan((s.input as { plan: unknown }).plan)).toBe(true);
      run.actor.stop();
    }
    expect(outages).toBeGreaterThan(0);
  });

  it('a planner outage plans again (never waits for a slot without a plan); a critic outage reviews the same head again', () => {
    const run = recordingActor(taskMachine, taskInput);
    const events = taskEvents as Array<{ type: string; output?: Record<string, unknown> }>;
    const find = (type: string, pred: (o: Record<string, unknown>) => boolean) => events.find((e) => e.type === type && pred(e.output ?? {}))!;
    run.send(find('xstate.done.actor.plan', (o) => o.outage === 'overloaded'));
    expect(run.actor.getSnapshot().value).toEqual({ live: 'backoff' });
    run.send(find('xstate.done.actor.sleep', () => true));
    expect(run.actor.getSnapshot().value).toEqual({ live: 'planning' });
    expect(run.starts.filter((s) => s.effect === 'plan')).toHaveLength(2);
    expect(run.starts.some((s) => s.effect === 'claimSlot')).toBe(false);
    expect(run.actor.getSnapshot().context.attempt).toBe(0);
    // On to a PR under review: a critic outage waits in pr_backoff (uncounted) and reviews again, never a rejection.
    for (const e of [
      find('xstate.done.actor.plan', (o) => o.ok === true),
      find('xstate.done.actor.claimSlot', (o) => o.granted === true),
      find('xstate.done.actor.provision', () => true),
      find('xstate.done.actor.runAgent', (o) => o.outcome === 'ok'),
      find('xstate.done.actor.ship', (o) => o.empty === false),
      find('xstate.done.actor.openPr', (o) => o.merged === false && !o.closed),
      find('xstate.done.actor.runChecks', (o) => o.state === 'success'),
    ])
      run.send(e);
    expect(run.actor.getSnapshot().value).toEqual({ live: 'reviewing' });
    run.send(find('xstate.done.actor.critique', (o) => o.verdict === 'none'));
    expect(run.actor.getSnapshot().value).toEqual({ live: 'pr_backoff' });
    expect(run.actor.getSnapshot().context).toMatchObject({ fix: 0, prFailures: 0, feedback: null, prStep: 'reviewing' });
    run.send(find('xstate.done.actor.sleep', () => true));
    expect(run.actor.getSnapshot().value).toEqual({ live: 'reviewing' });
    expect(run.starts.filter((s) => s.effect === 'runAgent')).toHaveLength(1);
  });

  it('never dispatches more than the retry policy allows (no thrash), over random walks of failures', () => {
    // Simple paths explode combinatorially; seeded random walks cover the failure interleavings instead.
    let seed = 0x5eed;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const events = taskEvents.filter((e: { type: string }) => !e.type.startsWith('engine.'));
    const { maxAttempts, maxFixAttempts } = taskInput.policy;
    for (let walk = 0; walk < 1500; walk++) {
      const run = recordingActor(taskMachine, taskInput);
      let relaunches = 0;
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
        const outage = outageOfEvent(event as never);
        if (outage && outage !== 'environment' && /runAgent|provision/.test((event as { type: string }).type)) relaunches++;
        if (outage && outage !== 'environment' && !((outage === 'stalled' || outage === 'timed_out') && before.stallWaits >= MAX_STALL_WAITS)) {
          // An outage (rate limit, overload, bad key, forge auth) spends nothing, and is never a rejection.
          const after = run.actor.getSnapshot();
          expect(after.context.attempt, `walk ${walk}: ${(event as { type: string }).type}`).toBe(before.attempt);
          expect(after.context.fix, `walk ${walk}: ${(event as { type: string }).type}`).toBe(before.fix);
          expect(after.context.prFailures, `walk ${walk}: ${(event as { type: string }).type}`).toBe(before.prFailures);
          expect(after.status, `walk ${walk}`).toBe('active');
        }
      }
      // No worker ever ran without a validated plan in context.
      for (const s of run.starts.filter((x) => x.effect === 'runAgent')) expect(isValidatedPlan((s.input as { plan: unknown }).plan), `walk ${walk}`).toBe(true);
      // The policy's bound, plus the environment errors a task may wait out over its life, plus one relaunch per worker outage waited out.
      const dispatches = run.starts.filter((s) => s.effect === 'provision').length;
      expect(run.actor.getSnapshot().context.attempt, `walk ${walk} (seed 0x5eed)`).toBeLessThan(maxAttempts);
      expect(run.actor.getSnapshot().context.envWaits, `walk ${walk} (seed 0x5eed)`).toBeLessThanOrEqual(MAX_ENV_WAITS);
      expect(dispatches, `walk ${walk} (seed 0x5eed)`).toBeLessThanOrEqual(maxAttempts * (maxFixAttempts + 1) + MAX_ENV_WAITS + relaunches);
      run.actor.stop();
    }
  });
  it('holds its three invariants at every step of random walks that kill and resume it at any moment', () => {
    // Invariants of the spec, checked after every event rather than at a path's end:
    // 1. runAgent starts only with a validated plan in context (and in its input);
    // 2. an outage (within its bound) never spends an attempt or a fix attempt;
    // 3. between engine.killed and engine.resumed no effect starts, whatever arrives.
    let seed = 0xc0ffee;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const all = taskEvents as Array<{ type: string; error?: unknown; output?: unknown }>;
    const seen = { agentStarts: 0, outages: 0, killedSends: 0 };
    for (let walk = 0; walk < 400; walk++) {
      const run = recordingActor(taskMachine, taskInput);
      let killedNow = false;
      for (let i = 0; i < 60 && run.actor.getSnapshot().status === 'active'; i++) {
        const snap = run.actor.getSnapshot();
        const enabled = all.filter((e) => snap.can(e as never));
        // Mostly events the state handles; now and then any event at all (a late effect result, a stray PR event).
        // (An error event only comes from a running effect: one the state does not handle would fail the actor, as in xstate.)
        const stray = all.filter((e) => !e.type.startsWith('xstate.error') || enabled.includes(e));
        const pool = killedNow || rand() < 0.25 || !enabled.length ? stray : enabled;
        const event = pool[Math.floor(rand() * pool.length)];
        const before = snap.context;
        const startsBefore = run.starts.length;
        run.send(event);
        const after = run.actor.getSnapshot();
        const where = `walk ${walk} step ${i}: ${event.type} (seed 0xc0ffee)`;
        if (killed(event)) killedNow = true;
        else if (resumed(event)) killedNow = false;
        else if (killedNow) {
          seen.killedSends++;
          expect(run.starts.slice(startsBefore), where).toEqual([]);
        }
        for (const s of run.starts.slice(startsBefore).filter((x) => x.effect === 'runAgent')) {
          seen.agentStarts++;
          expect(isValidatedPlan(after.context.plan), where).toBe(true);
          expect(isValidatedPlan((s.input as { plan: unknown }).plan), where).toBe(true);
        }
        const outage = outageOfEvent(event);
        const withinBound =
          outage === 'environment' ? before.envWaits < MAX_ENV_WAITS : outage === 'stalled' || outage === 'timed_out' ? before.stallWaits < MAX_STALL_WAITS : true;
        if (outage && withinBound) {
          seen.outages++;
          expect(after.context.attempt, where).toBe(before.attempt);
          expect(after.context.fix, where).toBe(before.fix);
        }
      }
      run.actor.stop();
    }
    // The walks reached what they check.
    expect(seen.agentStarts).toBeGreaterThan(20);
    expect(seen.outages).toBeGreaterThan(50);
    expect(seen.killedSends).toBeGreaterThan(50);
  });
});
