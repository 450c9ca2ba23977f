/**
 * Stuck-task triage, a background concern beside the task machines (never an effect of theirs): when a
 * task stops in `abandoned` or `awaiting_human`, the `triage` model is asked for a one-paragraph summary
 * of why, recorded as a `task.triage` row on that stop (`{event: <the stop's row id>, summary, …}`).
 *
 * It never touches a task's transition: it reads the ledger after the commit and writes its own rows.
 * The ledger is the latch (src/store/inference.ts pendingTriage): a restart finds the summaries still
 * owed and asks for each once; one recorded is never asked again. A call that fails (timeout, HTTP error,
 * bad answer) records `task.triage_missed` once, so a broken endpoint is not hammered. Nothing is called
 * while the killswitch is set or past the daily hard cap: those stops wait for the resume or the next day.
 */
import type { Clock } from '../../src/clock.js';
import type { Adapter } from '../../src/config/schema.js';
import { InferenceBudgetError, InferenceKilledError } from '../../src/errors.js';
import type { Db } from '../../src/store/db.js';
import { appendEvent, dayStart, listEvents } from '../../src/store/ledger.js';
import { lastFailureNoteBefore, reviewEventsOfTask } from '../../src/store/ledger-queries.js';
import { pendingTriage, type PendingTriage } from '../../src/store/inference.js';
import { getTask } from '../../src/store/tasks.js';
import type { InferenceClient } from './client.js';
import { summaryOf, triagePrompt, type TriageFacts } from './triage-prompt.js';

/** Calls at once: a burst of stops (a kill's aftermath) does not open a call per task. */
const CONCURRENCY = 3;
const RECENT_ROWS = 25;

export interface TriageOptions {
  adapter: Pick<Adapter, 'triage'>;
  db: Db;
  clock: Clock;
  client: InferenceClient;
  killed: () => boolean;
  log?: (line: string) => void;
}

export interface Triage {
  /** Looks for stops without a summary and asks for them (at start, after commits, on resume). */
  scan(): void;
  /** Stops asking; waits for the calls in flight to be recorded (each bounded by inference.timeoutMs). */
  stop(): Promise<void>;
  /** Settles when nothing is in flight (tests). */
  idle(): Promise<void>;
}

export function facts(db: Db, p: PendingTriage): TriageFacts | undefined {
  const task = getTask(db, p.task);
  if (!task) return undefined;
  const recent = listEvents(db, { task: p.task, limit: RECENT_ROWS }).filter((r) => r.id <= p.event && r.kind !== 'spend');
  const verdict = reviewEventsOfTask(db, p.task).filter((r) => r.kind.startsWith('critic.') && r.id <= p.event).at(-1);
  const reasons = verdict ? ((JSON.parse(verdict.payload) as { reasons?: unknown }).reasons ?? []) : [];
  return {
    task: { id: task.id, title: task.title, status: p.status, attempt: task.attempt, reason: task.reason },
    recent,
    lastFailure: lastFailureNoteBefore(db, p.task, p.event),
    critic: verdict ? { verdict: verdict.kind.slice('critic.'.length), reasons: Array.isArray(reasons) ? reasons.map(String) : [] } : undefined,
  };
}

export function createTriage(options: TriageOptions): Triage {
  const { db, clock, client } = options;
  const maxAgeMs = (options.adapter.triage?.maxAgeHours ?? 24) * 3_600_000;
  const inFlight = new Map<number, Promise<void>>();
  // Stops refused by the daily hard cap: asked again on the next UTC day (or after a restart), not at every commit.
  const refusedOn = new Map<number, number>();
  let stopped = false;

  async function triageOne(p: PendingTriage): Promise<'done' | 'refused'> {
    const f = facts(db, p);
    if (!f) return 'done';
    try {
      const answer = await client.complete({ role: 'triage', messages: triagePrompt(f), task: p.task, maxTokens: 400 });
      appendEvent(db, { at: clock.now(), actor: 'triage', kind: 'task.triage', task: p.task, payload: { event: p.event, status: p.status, summary: summaryOf(answer.text), model: answer.model, costUsd: answer.costUsd, costSource: answer.costSource } });
      return 'done';
    } catch (error) {
      if (error instanceof InferenceBudgetError || error instanceof InferenceKilledError) {
        options.log?.(`triage of ${p.task} waits: ${error.message}`);
        return 'refused';
      }
      const message = (error as Error)?.message ?? String(error);
      appendEvent(db, { at: clock.now(), actor: 'triage', kind: 'task.triage_missed', task: p.task, payload: { event: p.event, status: p.status, error: message, errorName: (error as Error)?.name ?? 'Error' } });
      options.log?.(`triage of ${p.task} failed: ${message}`);
      return 'done';
    }
  }

  function scan(): void {
    if (stopped || options.killed()) return;
    const now = clock.now();
    for (const p of pendingTriage(db, now - maxAgeMs)) {
      if (inFlight.size >= CONCURRENCY) return;
      if (inFlight.has(p.event) || refusedOn.get(p.event) === dayStart(now)) continue;
      const run = triageOne(p).then(
        (outcome) => {
          inFlight.delete(p.event);
          if (outcome === 'refused') refusedOn.set(p.event, dayStart(clock.now()));
          else scan(); // a slot freed: the next stop waiting, if any
        },
        (error) => {
          inFlight.delete(p.event);
          options.log?.(`triage of ${p.task}: ${(error as Error)?.message ?? String(error)}`);
        },
      );
      inFlight.set(p.event, run);
    }
  }

  async function idle(): Promise<void> {
    while (inFlight.size) await Promise.allSettled([...inFlight.values()]);
  }

  return {
    scan,
    idle,
    async stop() {
      // The calls in flight finish and are recorded (bounded by inference.timeoutMs); no new one starts.
      stopped = true;
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
