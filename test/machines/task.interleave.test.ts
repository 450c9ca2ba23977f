import fc from 'fast-check';
import { createActor, fromPromise, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { EFFECT_NAMES } from '../../machines/effects.js';
import { MAX_ENV_WAITS, MAX_STALL_WAITS, taskMachine } from '../../machines/task.js';
import { ManualClock } from '../../src/clock.js';
import { announceSeed, fuzzParams } from '../fuzz/settings.js';
import { fail, isValidatedPlan, outageOfEvent, taskEvents as modelEvents, taskInput } from '../helpers/machine-events.js';

/** The model's events plus a failure of every effect (forge 5xx, host gone, disk full...). */
const taskEvents = [...modelEvents, ...['claimSlot', 'runAgent', 'ship', 'openPr', 'runChecks', 'critique', 'merge'].map((id) => fail(id))];

announceSeed('task interleavings');

/** One step of a random run: an event of the model, a crash + restore from the persisted snapshot, or time passing. */
type Command = { kind: 'event'; index: number } | { kind: 'crash' } | { kind: 'tick'; ms: number };
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: fc.nat(taskEvents.length - 1).map((index) => ({ kind: 'event' as const, index })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'crash' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }).map((ms) => ({ kind: 'tick' as const, ms })) },
);

const status = (a: AnyActorRef): string => {
  const v = a.getSnapshot().value;
  return typeof v === 'string' ? v : String(Object.values(v)[0]);
};

/**
 * The real task machine, driven by random interleavings of effect completions, kills, resumes,
 * reaps, PR events, clock ticks and crash/restores through the persisted snapshot (JSON), with
 * effects that only record that they started. Checked after every step.
 */
function runInterleaving(commands: Command[]) {
  const clock = new ManualClock();
  const starts: Array<{ effect: string; restore: boolean; input: unknown }> = [];
  let restoring = false;
  const stubs = Object.fromEntries(
    EFFECT_NAMES.map((name) => [
      name,
      fromPromise(async ({ input }) => {
        starts.push({ effect: name, restore: restoring, input });
        return new Promise(() => {});
      }),
    ]),
  );
  const machine = taskMachine.provide({ actors: stubs as never });
  const errors: unknown[] = [];
  let actor: AnyActorRef = createActor(machine, { input: taskInput, clock: clock as never });
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  let killed = false;
  let terminal: string | null = null;
  let relaunches = 0;
  const { maxAttempts, maxFixAttempts } = taskInput.policy;

  for (const c of commands) {
    const before = starts.length;
    if (c.kind === 'tick') clock.advance(c.ms);
    else if (c.kind === 'crash') {
      const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
      const value = actor.getSnapshot().value;
      const context = actor.getSnapshot().context;
      actor.stop();
      restoring = true;
      actor = createActor(machine, { snapshot: persisted, clock: clock as never } as never);
      actor.subscribe({ error: (e) => errors.push(e) });
      actor.start();
      restoring = false;
      // A restore rebuilds the same state and context.
      expect(actor.getSnapshot().value).toEqual(value);
      expect(actor.getSnapshot().context).toEqual(context);
    } else {
      // An effect's completion only arrives while that effect runs (as in the engine): pick among what can happen now.
      const children = actor.getSnapshot().children as object;
      const possible = taskEvents.filter((e) => {
        const effect = /^xstate\.(?:done|error)\.actor\.(\w+)$/.exec((e as { type: string }).type)?.[1];
        return !effect || effect in children;
      });
      const event = possible[c.index % possible.length] as { type: string };
      if (event.type === 'engine.killed') killed = true;
      if (event.type === 'engine.resumed') killed = false;
      const before = actor.getSnapshot().context;
      actor.send(event as never);
      const outage = outageOfEvent(event as never);
      if (outage && outage !== 'environment' && before !== undefined) {
        // An outage spends no attempt, no fix attempt, and no PR-failure count (a stall past its bound aside).
        if (/runAgent|provision/.test(event.type)) relaunches++;
        if (!(outage === 'stalled' && before.stallWaits >= MAX_STALL_WAITS)) {
          expect(actor.getSnapshot().context.attempt).toBe(before.attempt);
          expect(actor.getSnapshot().context.fix).toBe(before.fix);
          expect(actor.getSnapshot().context.prFailures).toBe(before.prFailures);
        }
      }
    }
    const snap = actor.getSnapshot();
    expect(errors).toEqual([]);
    // Killed: nothing new starts, whatever arrives, across crashes and restores.
    if (killed && !terminal) expect(starts.slice(before), `started while killed`).toEqual([]);
    if (killed && !terminal) expect(status(actor)).toBe('held');
    // Terminal stays terminal and starts nothing more.
    if (terminal) {
      expect(status(actor)).toBe(terminal);
      expect(starts.slice(before)).toEqual([]);
    } else if (snap.status === 'done') terminal = status(actor);
    expect(snap.context.attempt).toBeLessThan(maxAttempts);
    // No worker without a validated plan, ever (a planner outage plans again).
    for (const s of starts.slice(before)) if (s.effect === 'runAgent') expect(isValidatedPlan((s.input as { plan: unknown }).plan)).toBe(true);
    expect(snap.context.fix).toBeLessThanOrEqual(maxFixAttempts);
  }
  // No thrash: dispatches (not counting re-runs on restore, which the real effect adopts) within policy.
  const dispatches = starts.filter((s) => s.effect === 'runAgent' && !s.restore).length;
  expect(dispatches).toBeLessThanOrEqual(maxAttempts * (1 + maxFixAttempts) + relaunches + MAX_ENV_WAITS);
  actor.stop();
}

describe('task machine under random interleavings (fast-check)', () => {
  it('kill honoured, restore exact, attempts and dispatches bounded, terminal final: for any order of events, crashes and restores', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 80 }), (commands) => runInterleaving(commands)),
      fuzzParams(),
    );
  });
});
