import { assign, setup } from 'xstate';
import { effectPlaceholders, type PromoteHistoryOutput, type PromoteOutput, type PromoteTrigger } from './effects.js';
import { killListener, type KillEvent } from './kill.js';
import { doneOutput, heldWhileKilled } from './polling.js';
import { dailyDue, msUntilNextCheck, parseSchedule } from './promote-schedule.js';
import { nowOf } from './time.js';

export interface PromoterInput {
  /** The recipe's name: its repository, or `default` (the actor is `promoter:<name>`). */
  name: string;
  /** `daily HH:MM` (UTC) or `after-merge`. */
  schedule: string;
  enabled: boolean;
  /** The longest wait between two looks at the ledger (merges are noticed this fast). */
  intervalMs: number;
}

export interface PromoterContext extends PromoterInput {
  /** The clock at the last look (the machine's notion of now, for its guards and delays). */
  now: number;
  lastRunAt: number | null;
  mergeCursor: number;
  latestMerge: number;
  trigger: PromoteTrigger;
  /** `promote.now` arrived while a run was in flight: one more run follows it. */
  again: boolean;
  /** The last run this actor saw end (its output's last lines, for the failure notification). */
  last: { ok: boolean; exitCode: number | null; summary: string; tail: string; at: number } | null;
}

export type PromoterEvent = KillEvent | { type: 'promote.now' };

/** `promote.now` from a waiting state: one run, whatever the schedule says (and even when not enabled). */
const RUN_NOW = { 'promote.now': { target: 'running', actions: 'manual' } } as const;

/**
 * Runs a promote recipe at its schedule while enabled and the engine is not killed. Its memory is
 * the ledger (each look reads the last run there), so a restart never runs a day's promote twice.
 * A kill leaves `live`: a run in flight is stopped (its effect ends the process group).
 */
export const promoterMachine = setup({
  types: { context: {} as PromoterContext, input: {} as PromoterInput, events: {} as PromoterEvent },
  actors: { promoteHistory: effectPlaceholders.promoteHistory, promote: effectPlaceholders.promote, notify: effectPlaceholders.notify, killListener },
  delays: {
    untilCheck: ({ context }: { context: PromoterContext }) => msUntilNextCheck(parseSchedule(context.schedule), context.now, context.intervalMs),
  },
  guards: {
    enabled: ({ context }) => context.enabled,
    again: ({ context }) => context.again,
    due: ({ context }) => {
      const s = parseSchedule(context.schedule);
      if (s.kind === 'after-merge') return context.latestMerge > context.mergeCursor;
      return context.lastRunAt !== null && dailyDue(s.minuteOfDay, context.lastRunAt, context.now);
    },
    failed: ({ event }) => !doneOutput<PromoteOutput>(event).ok,
  },
  actions: {
    tick: assign({ now: ({ system }) => nowOf(system) }),
    manual: assign({ trigger: 'manual' as PromoteTrigger, again: false }),
    queue: assign({ again: true }),
    scheduled: assign({ trigger: ({ context }) => (parseSchedule(context.schedule).kind === 'daily' ? 'schedule' : 'after-merge') as PromoteTrigger }),
    noteHistory: assign(({ event, system }) => {
      const h = doneOutput<PromoteHistoryOutput>(event);
      return { now: nowOf(system), lastRunAt: h.lastRunAt, mergeCursor: h.mergeCursor, latestMerge: h.latestMerge };
    }),
    noteRun: assign({
      last: ({ event, system }) => {
        const o = doneOutput<PromoteOutput>(event);
        return { ok: o.ok, exitCode: o.exitCode, summary: o.summary, tail: o.outputTail.slice(-1000), at: nowOf(system) };
      },
    }),
    noteError: assign({ last: ({ event, system }) => ({ ok: false, exitCode: null, summary: `the run failed: ${String((event as { error?: unknown }).error)}`, tail: '', at: nowOf(system) }) }),
  },
}).createMachine({
  id: 'promoter',
  context: ({ input }) => ({ ...input, now: 0, lastRunAt: null, mergeCursor: 0, latestMerge: 0, trigger: 'schedule', again: false, last: null }),
  ...heldWhileKilled('starting', {
    starting: { always: [{ guard: 'enabled', target: 'checking' }, { target: 'dormant' }] },
    // Configured but not enabled: nothing runs unless an operator asks.
    dormant: { on: RUN_NOW },
    checking: {
      invoke: {
        id: 'promoteHistory',
        src: 'promoteHistory',
        input: ({ context }: { context: PromoterContext }) => ({ name: context.name }),
        onDone: { target: 'deciding', actions: 'noteHistory' },
        onError: { target: 'waiting', actions: 'tick' },
      },
      on: RUN_NOW,
    },
    deciding: {
      always: [
        { guard: 'due', target: 'running', actions: 'scheduled' },
        { target: 'waiting' },
      ],
    },
    waiting: { after: { untilCheck: 'checking' }, on: RUN_NOW },
    running: {
      invoke: {
        id: 'promote',
        src: 'promote',
        input: ({ context }: { context: PromoterContext }) => ({ name: context.name, trigger: context.trigger }),
        onDone: [
          { guard: 'failed', target: 'notifying', actions: 'noteRun' },
          { target: 'resting', actions: 'noteRun' },
        ],
        onError: { target: 'notifying', actions: 'noteError' },
      },
      on: { 'promote.now': { actions: 'queue' } },
    },
    notifying: {
      invoke: {
        id: 'notify',
        src: 'notify',
        input: ({ context }: { context: PromoterContext }) => ({
          kind: 'promote',
          severity: 'error' as const,
          title: `Promote ${context.name} failed: ${context.last?.summary ?? 'unknown'}`,
          body: `${context.last?.tail || '(no output)'}\n(the ledger row promote.run holds the last 4 KiB of its output)`,
        }),
        onDone: 'resting',
        onError: 'resting',
      },
      on: { 'promote.now': { actions: 'queue' } },
    },
    resting: { always: [{ guard: 'again', target: 'running', actions: 'manual' }, { guard: 'enabled', target: 'checking' }, { target: 'dormant' }] },
  }),
});
