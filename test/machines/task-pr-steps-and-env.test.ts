import { describe, expect, it } from 'vitest';
import { MAX_ENV_WAITS, MAX_PR_FAILURES, taskMachine } from '../../machines/task.js';
import { done, envFail, fail, recordingActor, taskInput } from '../helpers/machine-events.js';

const plan = { files_touched: ['src/a.js'], tests: [], dependencies: [], risk: 'low' };
const toWorking = [
  done('plan', { ok: true, plan, costUsd: 0 }),
  done('claimSlot', { granted: true, host: 'local' }),
  done('provision', { branch: 'oxi/t1', worktree: '/w/t1' }),
];
const toReviewing = [
  ...toWorking,
  done('runAgent', { outcome: 'ok', costUsd: 0, backend: 'scripted' }),
  done('ship', { headSha: 'abc', empty: false }),
  done('openPr', { pr: 7, merged: false }),
  done('runChecks', { state: 'success', summary: '' }),
];
const forge502 = 'ForgeError: GitHub API 502 Bad Gateway';

function start(events: unknown[], policy: Partial<typeof taskInput.policy> & { maxPrFailures?: number } = {}) {
  const r = recordingActor(taskMachine, { ...taskInput, policy: { ...taskInput.policy, ...policy } });
  for (const e of events) r.send(e);
  return r;
}

describe('task machine: a failed review is the machinery failing, not a rejection', () => {
  it('a forge error during review waits out a backoff and reviews again, spending no fix attempt', () => {
    const r = start(toReviewing);
    expect(r.actor.getSnapshot().value).toEqual({ live: 'reviewing' });
    r.send(fail('critique', forge502));
    let s = r.actor.getSnapshot();
    expect(s.value).toEqual({ live: 'pr_backoff' });
    expect(s.context).toMatchObject({ fix: 0, attempt: 0, prFailures: 1, prStep: 'reviewing', feedback: null });
    expect(s.context.until).toBe(r.clock.now() + taskInput.policy.backoffBaseMs);
    // The recorded effects never settle on their own: deliver the end of the sleep by hand.
    r.send(done('sleep', { at: s.context.until }));
    expect(r.actor.getSnapshot().value).toEqual({ live: 'reviewing' });
    expect(r.starts.filter((x) => x.effect === 'critique')).toHaveLength(2);
    r.send(done('critique', { verdict: 'approve', reasons: [], costUsd: 0 }));
    s = r.actor.getSnapshot();
    expect(s.value).toEqual({ live: 'merging' });
    expect(s.context).toMatchObject({ fix: 0, prFailures: 0, prStep: null });
    expect(r.starts.filter((x) => x.effect === 'runAgent')).toHaveLength(1);
  });

  it('a critic that answers with a rejection is still a rejection (a fix attempt)', () => {
    const r = start(toReviewing);
    r.send(done('critique', { verdict: 'reject', reasons: ["the critic's answer is not a valid verdict: treated as a rejection"], costUsd: 0 }));
    expect(r.actor.getSnapshot().value).toEqual({ live: 'waiting' });
    expect(r.actor.getSnapshot().context.fix).toBe(1);
  });

  it(`after ${MAX_PR_FAILURES} failures in a row it asks a human; a retry then reviews again instead of merging unreviewed`, () => {
    const r = start(toReviewing);
    for (let i = 1; i < MAX_PR_FAILURES; i++) {
      r.send(fail('critique', forge502));
      expect(r.actor.getSnapshot().value).toEqual({ live: 'pr_backoff' });
      r.send({ type: 'task.retry' });
      expect(r.actor.getSnapshot().value).toEqual({ live: 'reviewing' });
    }
    r.send(fail('critique', forge502));
    const s = r.actor.getSnapshot();
    expect(s.value).toEqual({ live: 'awaiting_human' });
    expect(s.context.fix).toBe(0);
    expect(s.context.reason).toBe(`the review failed ${MAX_PR_FAILURES} times in a row (last: ${forge502}): fix the cause, then send task.retry to run it again, or merge or close the PR by hand`);
    r.send({ type: 'task.retry' });
    expect(r.actor.getSnapshot().value).toEqual({ live: 'reviewing' });
    expect(r.starts.some((x) => x.effect === 'merge')).toBe(false);
  });

  it('the bound is the policy\'s when it sets one, and a human merging the PR meanwhile ends the task', () => {
    const r = start(toReviewing, { maxPrFailures: 1 });
    r.send(fail('critique', forge502));
    expect(r.actor.getSnapshot().value).toEqual({ live: 'awaiting_human' });
    r.send({ type: 'pr.merged' });
    expect(r.actor.getSnapshot().value).toBe('merged');
  });

  it('a PR merged or closed by a human during the review backoff is followed', () => {
    const merged = start([...toReviewing, fail('critique', forge502)]);
    merged.send({ type: 'pr.merged' });
    expect(merged.actor.getSnapshot().value).toBe('merged');
    const closed = start([...toReviewing, fail('critique', forge502)]);
    closed.send({ type: 'pr.closed' });
    expect(closed.actor.getSnapshot().value).toBe('abandoned');
  });
});

describe('task machine: a forge failure at any PR step is retried at that step, spending no attempt', () => {
  const toChecks = toReviewing.slice(0, -1);
  const toPrOpen = toChecks.slice(0, -1);
  const toMerging = [...toReviewing, done('critique', { verdict: 'approve', reasons: [], costUsd: 0 })];
  const cases = [
    { step: 'pr_open', effect: 'openPr', events: toPrOpen },
    { step: 'checks', effect: 'runChecks', events: toChecks },
    { step: 'merging', effect: 'merge', events: toMerging },
  ] as const;
  for (const { step, effect, events } of cases) {
    it(`${effect}: a 502 waits in pr_backoff, then runs ${effect} again; no worker reruns; bounded, then a human retries the same step`, () => {
      const r = start(events);
      expect(r.actor.getSnapshot().value).toEqual({ live: step });
      r.send(fail(effect, forge502));
      let s = r.actor.getSnapshot();
      expect(s.value).toEqual({ live: 'pr_backoff' });
      expect(s.context).toMatchObject({ attempt: 0, fix: 0, prFailures: 1, prStep: step });
      r.send(done('sleep', { at: s.context.until }));
      expect(r.actor.getSnapshot().value).toEqual({ live: step });
      expect(r.starts.filter((x) => x.effect === effect)).toHaveLength(2);
      for (let i = 2; i <= MAX_PR_FAILURES; i++) {
        r.send(fail(effect, forge502));
        if (i < MAX_PR_FAILURES) r.send(done('sleep', { at: r.actor.getSnapshot().context.until }));
      }
      s = r.actor.getSnapshot();
      expect(s.value).toEqual({ live: 'awaiting_human' });
      expect(s.context).toMatchObject({ attempt: 0, fix: 0, prFailures: MAX_PR_FAILURES, prStep: step });
      r.send({ type: 'task.retry' });
      expect(r.actor.getSnapshot().value).toEqual({ live: step });
      expect(r.actor.getSnapshot().context).toMatchObject({ prFailures: 0, prStep: null });
      expect(r.starts.filter((x) => x.effect === 'runAgent')).toHaveLength(1);
    });
  }
});

describe('task machine: an environment error while dispatching spends nothing', () => {
  for (const effect of ['provision', 'runAgent'] as const) {
    it(`${effect} failing with ENOSPC goes back to wait for a slot with the attempt unspent`, () => {
      const r = start(effect === 'provision' ? toWorking.slice(0, 2) : toWorking);
      r.send(envFail(effect));
      const s = r.actor.getSnapshot();
      expect(s.value).toEqual({ live: 'backoff' });
      expect(s.context).toMatchObject({ attempt: 0, fix: 0 });
      expect(s.context.reason).toMatch(/^dispatch paused by the environment: /);
    });
  }

  it(`waits out at most ${MAX_ENV_WAITS} over its life; the next counts as an ordinary failure (a launch that keeps failing cannot relaunch forever)`, () => {
    const r = start(toWorking.slice(0, 2));
    for (let i = 0; i < MAX_ENV_WAITS; i++) {
      r.send(envFail('provision'));
      expect(r.actor.getSnapshot().context).toMatchObject({ attempt: 0, envWaits: i + 1 });
      r.send({ type: 'task.retry' });
      r.send(done('claimSlot', { granted: true, host: 'local' }));
      expect(r.actor.getSnapshot().value).toEqual({ live: 'provisioning' });
    }
    r.send(envFail('provision'));
    expect(r.actor.getSnapshot().value).toEqual({ live: 'backoff' });
    expect(r.actor.getSnapshot().context).toMatchObject({ attempt: 1, envWaits: MAX_ENV_WAITS });
    expect(r.actor.getSnapshot().context.reason).toMatch(/^provisioning failed: /);
  });

  it('any other failure of the same effects still spends an attempt', () => {
    const r = start(toWorking);
    r.send(fail('runAgent', 'Error: spawn ENOENT'));
    expect(r.actor.getSnapshot().context.attempt).toBe(1);
  });
});

describe('task machine: a PR closed by a human while the task worked on a fix', () => {
  const toFix = [...toReviewing, done('critique', { verdict: 'reject', reasons: ['no'], costUsd: 0 }), done('claimSlot', { granted: true, host: 'local' }), done('provision', { branch: 'oxi/t1', worktree: '/w/t1' }), done('runAgent', { outcome: 'ok', costUsd: 0, backend: 'scripted' }), done('ship', { headSha: 'def', empty: false })];
  it('is abandoned as "PR closed unmerged" when openPr finds it closed, or planned afresh with onClosedPr "replan"', () => {
    const r = start(toFix);
    expect(r.actor.getSnapshot().value).toEqual({ live: 'pr_open' });
    r.send(done('openPr', { pr: 7, merged: false, closed: true }));
    expect(r.actor.getSnapshot().value).toBe('abandoned');
    expect(r.actor.getSnapshot().context.reason).toBe('PR closed unmerged');
    const replan = start(toFix, { onClosedPr: 'replan' } as never);
    replan.send(done('openPr', { pr: 7, merged: false, closed: true }));
    expect(replan.actor.getSnapshot().value).toEqual({ live: 'planning' });
    expect(replan.actor.getSnapshot().context).toMatchObject({ attempt: 1, pr: null });
  });
});

describe('task machine: the count of PR failures belongs to one PR step run', () => {
  it('is cleared when a closed PR sends the task to plan afresh: the next PR gets the full allowance', () => {
    const r = start(toReviewing, { onClosedPr: 'replan' } as never);
    for (let i = 1; i < MAX_PR_FAILURES; i++) {
      r.send(fail('critique', forge502));
      r.send({ type: 'task.retry' });
    }
    expect(r.actor.getSnapshot().context.prFailures).toBe(MAX_PR_FAILURES - 1);
    r.send({ type: 'pr.closed' });
    expect(r.actor.getSnapshot().value).toEqual({ live: 'planning' });
    expect(r.actor.getSnapshot().context).toMatchObject({ prFailures: 0, prStep: null, pr: null });
    for (const e of toReviewing.slice(0, 5)) r.send(e);
    expect(r.actor.getSnapshot().value).toEqual({ live: 'pr_open' });
    r.send(fail('openPr', forge502));
    expect(r.actor.getSnapshot().value).toEqual({ live: 'pr_backoff' });
  });

  it('is cleared by any answer of the merge (the head moved, policy refused): a later failure starts counting anew', () => {
    for (const outcome of [{ outcome: 'head_moved' }, { outcome: 'refused', detail: 'auto-merge is off' }]) {
      const r = start([...toReviewing, done('critique', { verdict: 'approve', reasons: [], costUsd: 0 })]);
      expect(r.actor.getSnapshot().value).toEqual({ live: 'merging' });
      for (let i = 1; i < MAX_PR_FAILURES; i++) {
        r.send(fail('merge', forge502));
        r.send({ type: 'task.retry' });
      }
      r.send(done('merge', outcome));
      expect(r.actor.getSnapshot().context, outcome.outcome).toMatchObject({ prFailures: 0, prStep: null });
    }
  });
});
