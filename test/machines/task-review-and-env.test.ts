import { describe, expect, it } from 'vitest';
import { MAX_REVIEW_FAILURES, taskMachine } from '../../machines/task.js';
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

function start(events: unknown[], policy: Partial<typeof taskInput.policy> & { maxReviewFailures?: number } = {}) {
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
    expect(s.value).toEqual({ live: 'review_backoff' });
    expect(s.context).toMatchObject({ fix: 0, attempt: 0, reviewFailures: 1, feedback: null });
    expect(s.context.until).toBe(r.clock.now() + taskInput.policy.backoffBaseMs);
    // The recorded effects never settle on their own: deliver the end of the sleep by hand.
    r.send(done('sleep', { at: s.context.until }));
    expect(r.actor.getSnapshot().value).toEqual({ live: 'reviewing' });
    expect(r.starts.filter((x) => x.effect === 'critique')).toHaveLength(2);
    r.send(done('critique', { verdict: 'approve', reasons: [], costUsd: 0 }));
    s = r.actor.getSnapshot();
    expect(s.value).toEqual({ live: 'merging' });
    expect(s.context).toMatchObject({ fix: 0, reviewFailures: 0 });
    expect(r.starts.filter((x) => x.effect === 'runAgent')).toHaveLength(1);
  });

  it('a critic that answers with a rejection is still a rejection (a fix attempt)', () => {
    const r = start(toReviewing);
    r.send(done('critique', { verdict: 'reject', reasons: ["the critic's answer is not a valid verdict: treated as a rejection"], costUsd: 0 }));
    expect(r.actor.getSnapshot().value).toEqual({ live: 'waiting' });
    expect(r.actor.getSnapshot().context.fix).toBe(1);
  });

  it(`after ${MAX_REVIEW_FAILURES} failures in a row it asks a human; a retry then reviews again instead of merging unreviewed`, () => {
    const r = start(toReviewing);
    for (let i = 1; i < MAX_REVIEW_FAILURES; i++) {
      r.send(fail('critique', forge502));
      expect(r.actor.getSnapshot().value).toEqual({ live: 'review_backoff' });
      r.send({ type: 'task.retry' });
      expect(r.actor.getSnapshot().value).toEqual({ live: 'reviewing' });
    }
    r.send(fail('critique', forge502));
    const s = r.actor.getSnapshot();
    expect(s.value).toEqual({ live: 'awaiting_human' });
    expect(s.context.fix).toBe(0);
    expect(s.context.reason).toBe(`the review failed ${MAX_REVIEW_FAILURES} times in a row (last: ${forge502}): merge or close the PR by hand, or send task.retry to review it again`);
    r.send({ type: 'task.retry' });
    expect(r.actor.getSnapshot().value).toEqual({ live: 'reviewing' });
    expect(r.starts.some((x) => x.effect === 'merge')).toBe(false);
  });

  it('the bound is the policy\'s when it sets one, and a human merging the PR meanwhile ends the task', () => {
    const r = start(toReviewing, { maxReviewFailures: 1 });
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
