import { createActor, fromPromise, type AnyStateMachine } from 'xstate';
import { ManualClock } from '../../src/clock.js';
import { EFFECT_NAMES } from '../../machines/effects.js';

/** A done event as xstate delivers it when the invoked effect `id` resolves. */
export const done = (id: string, output: unknown) => ({ type: `xstate.done.actor.${id}`, output, actorId: id }) as never;
export const fail = (id: string, error = 'boom') => ({ type: `xstate.error.actor.${id}`, error, actorId: id }) as never;
/** The failure an effect reports for an environment error (full disk): the shape EnvironmentError has. */
export const envFail = (id: string) => ({ type: `xstate.error.actor.${id}`, error: { outage: 'environment', code: 'ENOSPC', message: 'ENOSPC: no space left on device' }, actorId: id }) as never;
export const isEnvFail = (e: { type: string; error?: unknown }) => (e.error as { outage?: unknown } | undefined)?.outage === 'environment';
/** The failure a forge step reports while its credentials are refused (ForgeAuthError: the forge gate). */
export const authFail = (id: string) => ({ type: `xstate.error.actor.${id}`, error: { outage: 'auth', resetAt: 40, message: 'GitHub rejected the token (401)' }, actorId: id }) as never;
/** An event that carries an outage (machines/outcome.ts): it must never spend an attempt or a fix attempt. */
export const outageOfEvent = (e: { type: string; error?: unknown; output?: unknown }): string | undefined => {
  const o = e.output as { outage?: string } | undefined;
  return o?.outage ?? (e.error as { outage?: string } | undefined)?.outage;
};
/** A validated plan: what the plan effect's schema lets into context. */
export const isValidatedPlan = (plan: unknown) => Array.isArray((plan as { files_touched?: unknown } | null)?.files_touched) && (plan as { files_touched: unknown[] }).files_touched.length > 0;

const plan = { files_touched: ['src/a.js'], tests: [], dependencies: [], risk: 'low' };

/** Every payload variant the task machine distinguishes, so guarded branches are reachable. */
export const taskEvents = [
  done('plan', { ok: true, plan, costUsd: 0 }),
  done('plan', { ok: false, error: 'bad json', costUsd: 0 }),
  done('plan', { ok: false, error: 'API Error: 500', costUsd: 0, outage: 'overloaded' }),
  done('plan', { ok: false, error: 'usage limit reached', costUsd: 0, outage: 'rate_limited', resetAt: 60 }),
  fail('plan'),
  done('claimSlot', { granted: true, host: 'local' }),
  done('claimSlot', { granted: false, reason: 'overlap', until: 5 }),
  done('sleep', { at: 5 }),
  done('provision', { branch: 'oxi/t1', worktree: '/w/t1' }),
  fail('provision'),
  envFail('provision'),
  authFail('provision'),
  done('runAgent', { outcome: 'ok', costUsd: 0, backend: 'scripted' }),
  done('runAgent', { outcome: 'failed', error: 'x', costUsd: 0, backend: 'scripted' }),
  done('runAgent', { outcome: 'lost', costUsd: 0, backend: 'scripted' }),
  done('runAgent', { outcome: 'rate_limited', outage: 'rate_limited', resetAt: 60, error: '429', costUsd: 0, backend: 'scripted' }),
  done('runAgent', { outcome: 'stalled', outage: 'stalled', fallback: true, error: 'no output', costUsd: 0, backend: 'scripted' }),
  done('runAgent', { outcome: 'auth', outage: 'auth', error: '401', costUsd: 0, backend: 'scripted' }),
  envFail('runAgent'),
  done('ship', { headSha: 'abc', empty: false }),
  done('ship', { headSha: 'abc', empty: true }),
  done('openPr', { pr: 1, merged: false }),
  done('openPr', { pr: 1, merged: true }),
  done('openPr', { pr: 1, merged: false, closed: true }),
  done('runChecks', { state: 'success', summary: '' }),
  done('runChecks', { state: 'failure', summary: 'red' }),
  done('critique', { verdict: 'approve', reasons: [], costUsd: 0 }),
  done('critique', { verdict: 'approve', reasons: [], costUsd: 0, needsHuman: true }),
  done('critique', { verdict: 'reject', reasons: ['no'], costUsd: 0 }),
  fail('critique'),
  done('critique', { verdict: 'none', outage: 'overloaded', error: 'API Error: 529', costUsd: 0 }),
  authFail('openPr'),
  authFail('merge'),
  done('merge', { outcome: 'merged' }),
  done('merge', { outcome: 'head_moved' }),
  done('merge', { outcome: 'conflict' }),
  done('merge', { outcome: 'refused', detail: 'human review' }),
  { type: 'task.reap', reason: 'dead' } as never,
  { type: 'pr.merged' } as never,
  { type: 'pr.closed' } as never,
  { type: 'task.retry' } as never,
  { type: 'engine.killed', reason: 'test', hard: false } as never,
  { type: 'engine.resumed' } as never,
];

export const taskInput = {
  id: 'T1',
  title: 'title',
  description: 'desc',
  tier: 0,
  attempt: 0,
  policy: { maxAttempts: 2, maxFixAttempts: 1, backoffBaseMs: 10, backoffMaxMs: 100, autoMerge: true },
};

/** Bounded, context-aware state key: value, counters and the history the held state resumes to. */
export function serializeTask(snapshot: any): string {
  const hist = Object.fromEntries(Object.entries(snapshot.historyValue ?? {}).map(([k, v]) => [k, (v as Array<{ id: string }>).map((n) => n.id)]));
  const c = snapshot.context;
  return JSON.stringify({ v: snapshot.value, a: c.attempt, f: c.fix, h: c.needsHuman, hist });
}

/**
 * Runs a machine for real with effects that only record that they started (and never settle),
 * so a path's events can be replayed and every effect start observed.
 */
export function recordingActor(
  machine: AnyStateMachine,
  input: unknown,
  extraActors: Record<string, unknown> = {},
  outputs: Partial<Record<string, unknown>> = {},
) {
  const starts: Array<{ effect: string; step: number; input: unknown }> = [];
  let step = 0;
  const stubs: Record<string, unknown> = {};
  for (const name of EFFECT_NAMES) {
    // With a canned output the effect settles at once; without one it never settles.
    stubs[name] = fromPromise(async ({ input: i }) => {
      starts.push({ effect: name, step, input: i });
      return name in outputs ? outputs[name] : new Promise(() => {});
    });
  }
  const clock = new ManualClock();
  const actor = createActor(machine.provide({ actors: { ...stubs, ...extraActors } } as never), { input, clock: clock as never });
  actor.start();
  return {
    actor,
    starts,
    clock,
    send(event: unknown) {
      step++;
      actor.send(event as never);
    },
    get step() {
      return step;
    },
  };
}
