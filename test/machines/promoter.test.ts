import { afterEach, describe, expect, it } from 'vitest';
import { createActor, fromPromise, type AnyActorRef } from 'xstate';
import { ManualClock } from '../../src/clock.js';
import { promoterMachine, type PromoterInput } from '../../machines/promoter.js';
import type { NotifyInput, PromoteHistoryOutput, PromoteInput, PromoteOutput } from '../../machines/effects.js';

const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);

/**
 * The promoter against a ledger kept in memory the way actors/effects/promote.ts keeps it in SQLite:
 * the history reads the last row (arming on first sight), a run appends its start row.
 */
function world(start: string) {
  const clock = new ManualClock(at(start));
  const ledger = { rows: [] as Array<{ kind: string; at: number; mergeId: number }>, merges: 0 };
  const runs: Array<PromoteInput & { at: number }> = [];
  const notes: NotifyInput[] = [];
  let result: PromoteOutput = { ok: true, exitCode: 0, durationMs: 1, summary: 'exit 0', outputTail: '' };
  const actors: AnyActorRef[] = [];
  const effects = {
    promoteHistory: fromPromise<PromoteHistoryOutput, { name: string }>(async () => {
      const last = ledger.rows.at(-1);
      if (last) return { lastRunAt: last.at, mergeCursor: last.mergeId, latestMerge: ledger.merges };
      ledger.rows.push({ kind: 'promote.armed', at: clock.now(), mergeId: ledger.merges });
      return { lastRunAt: clock.now(), mergeCursor: ledger.merges, latestMerge: ledger.merges };
    }),
    promote: fromPromise<PromoteOutput, PromoteInput>(async ({ input }) => {
      ledger.rows.push({ kind: 'promote.started', at: clock.now(), mergeId: ledger.merges });
      runs.push({ ...input, at: clock.now() });
      return result;
    }),
    notify: fromPromise<void, NotifyInput>(async ({ input }) => void notes.push(input)),
    // No engineState in this system: the kill arrives as the broadcast itself.
    killListener: fromPromise(async () => new Promise<never>(() => {})),
  };
  return {
    clock,
    ledger,
    runs,
    notes,
    fail(out: Partial<PromoteOutput>) {
      result = { ...result, ok: false, ...out };
    },
    /** Starts (or restarts, after a crash) the promoter on the same ledger. */
    start(input: Partial<PromoterInput> = {}) {
      const actor = createActor(promoterMachine.provide({ actors: effects as never }), {
        input: { name: 'default', schedule: 'daily 03:00', enabled: true, intervalMs: 10 * MIN, ...input },
        clock: clock as never,
      });
      actors.push(actor);
      actor.start();
      return actor;
    },
    async advance(ms: number, step = MIN) {
      const flush = async () => {
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      };
      await flush(); // what an event just started settles at the current time
      for (let done = 0; done < ms; done += step) {
        clock.advance(Math.min(step, ms - done));
        await flush();
      }
    },
    stopAll() {
      for (const a of actors) a.stop();
    },
  };
}

let w: ReturnType<typeof world> | undefined;
afterEach(() => w?.stopAll());

describe('promoter', () => {
  it('runs a daily recipe at its slot, once, and again the next day', async () => {
    w = world('2026-03-10T00:00:00Z');
    w.start();
    await w.advance(3 * 60 * MIN - MIN);
    expect(w.runs).toEqual([]);
    await w.advance(2 * MIN);
    expect(w.runs).toEqual([{ name: 'default', trigger: 'schedule', at: at('2026-03-10T03:00:00Z') }]);
    await w.advance(24 * 60 * MIN);
    expect(w.runs.map((r) => new Date(r.at).toISOString())).toEqual(['2026-03-10T03:00:00.000Z', '2026-03-11T03:00:00.000Z']);
  });

  it('does not run before its first slot when armed after the day\'s slot has passed', async () => {
    w = world('2026-03-10T09:00:00Z');
    w.start();
    await w.advance(17 * 60 * MIN);
    expect(w.runs).toEqual([]);
    await w.advance(60 * MIN);
    expect(w.runs.map((r) => r.at)).toEqual([at('2026-03-11T03:00:00Z')]);
  });

  it('runs nothing while not enabled, but once when asked (promote.now)', async () => {
    w = world('2026-03-10T00:00:00Z');
    const actor = w.start({ enabled: false });
    await w.advance(2 * 24 * 60 * MIN, 10 * MIN);
    expect(w.runs).toEqual([]);
    expect(w.ledger.rows).toEqual([]); // not even armed
    actor.send({ type: 'promote.now' });
    await w.advance(MIN);
    expect(w.runs.map((r) => r.trigger)).toEqual(['manual']);
    expect(actor.getSnapshot().value).toEqual({ live: 'dormant' });
  });

  it('is held while killed: the slot passes unrun, and the missed run happens once on resume', async () => {
    w = world('2026-03-10T00:00:00Z');
    const actor = w.start();
    await w.advance(2 * 60 * MIN);
    actor.send({ type: 'engine.killed', reason: 'test', hard: false });
    await w.advance(3 * 60 * MIN);
    expect(actor.getSnapshot().value).toBe('held');
    actor.send({ type: 'promote.now' }); // refused while killed
    await w.advance(MIN);
    expect(w.runs).toEqual([]);
    actor.send({ type: 'engine.resumed' });
    await w.advance(2 * MIN);
    expect(w.runs.map((r) => r.at)).toEqual([at('2026-03-10T05:01:00Z')]);
    await w.advance(12 * 60 * MIN);
    expect(w.runs).toHaveLength(1);
  });

  it('a kill stops a run in flight (its effect is stopped)', async () => {
    w = world('2026-03-10T02:50:00Z');
    let stopped = false;
    const slow = fromPromise<PromoteOutput, PromoteInput>(({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => ((stopped = true), reject(new Error('aborted'))))));
    const actor = createActor(promoterMachine.provide({ actors: { promote: slow, promoteHistory: fromPromise(async () => ({ lastRunAt: 0, mergeCursor: 0, latestMerge: 0 })), notify: fromPromise(async () => undefined), killListener: fromPromise(() => new Promise(() => {})) } as never }), {
      input: { name: 'default', schedule: 'daily 03:00', enabled: true, intervalMs: 10 * MIN },
      clock: w.clock as never,
    }).start();
    await w.advance(0, 1);
    expect(actor.getSnapshot().value).toEqual({ live: 'running' });
    actor.send({ type: 'engine.killed', reason: 'stop', hard: false });
    expect(stopped).toBe(true);
    expect(actor.getSnapshot().value).toBe('held');
    actor.stop();
  });

  it('does not run a day\'s promote twice across a restart', async () => {
    w = world('2026-03-10T02:00:00Z');
    const first = w.start();
    await w.advance(61 * MIN);
    expect(w.runs).toHaveLength(1);
    first.stop(); // the daemon goes down and comes back the same day
    await w.advance(2 * 60 * MIN, 10 * MIN);
    w.start();
    await w.advance(20 * 60 * MIN, 10 * MIN);
    expect(w.runs).toHaveLength(1);
    await w.advance(4 * 60 * MIN, 10 * MIN);
    expect(w.runs).toHaveLength(2);
  });

  it('after-merge: runs once per batch of merges, never without one', async () => {
    w = world('2026-03-10T00:00:00Z');
    w.ledger.merges = 7; // merges before it was armed do not count
    w.start({ schedule: 'after-merge', intervalMs: MIN });
    await w.advance(30 * MIN);
    expect(w.runs).toEqual([]);
    w.ledger.merges = 9;
    await w.advance(2 * MIN);
    expect(w.runs.map((r) => r.trigger)).toEqual(['after-merge']);
    await w.advance(30 * MIN);
    expect(w.runs).toHaveLength(1);
    w.ledger.merges = 10;
    await w.advance(2 * MIN);
    expect(w.runs).toHaveLength(2);
  });

  it('promote.now during a run: one more run follows it (not two, not none)', async () => {
    w = world('2026-03-10T02:50:00Z');
    let finish: (o: PromoteOutput) => void = () => {};
    const starts: string[] = [];
    let lastRunAt = 0;
    const gated = fromPromise<PromoteOutput, PromoteInput>(({ input }) => (starts.push(input.trigger), (lastRunAt = w!.clock.now()), new Promise((r) => (finish = r))));
    const actor = createActor(promoterMachine.provide({ actors: { promote: gated, promoteHistory: fromPromise(async () => ({ lastRunAt, mergeCursor: 0, latestMerge: 0 })), notify: fromPromise(async () => undefined), killListener: fromPromise(() => new Promise(() => {})) } as never }), {
      input: { name: 'default', schedule: 'daily 03:00', enabled: true, intervalMs: 10 * MIN },
      clock: w.clock as never,
    }).start();
    await w.advance(0, 1);
    expect(starts).toEqual(['schedule']);
    actor.send({ type: 'promote.now' });
    actor.send({ type: 'promote.now' });
    finish({ ok: true, exitCode: 0, durationMs: 1, summary: 'exit 0', outputTail: '' });
    await w.advance(0, 1);
    expect(starts).toEqual(['schedule', 'manual']);
    finish({ ok: true, exitCode: 0, durationMs: 1, summary: 'exit 0', outputTail: '' });
    await w.advance(0, 1);
    expect(starts).toEqual(['schedule', 'manual']);
    expect(actor.getSnapshot().value).toEqual({ live: 'waiting' });
    actor.stop();
  });

  it('notifies when a run fails, with its summary and output tail', async () => {
    w = world('2026-03-10T00:00:00Z');
    w.fail({ exitCode: 3, summary: 'exit 3', outputTail: 'deploy refused: migration pending' });
    const actor = w.start({ enabled: false });
    actor.send({ type: 'promote.now' });
    await w.advance(MIN);
    expect(w.notes).toEqual([expect.objectContaining({ kind: 'promote', severity: 'error', title: 'Promote default failed: exit 3' })]);
    expect(w.notes[0]!.body).toContain('deploy refused: migration pending');
    expect(actor.getSnapshot().context.last).toMatchObject({ ok: false, exitCode: 3 });
  });
});
