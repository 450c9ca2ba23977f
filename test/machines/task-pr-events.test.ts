import { describe, expect, it } from 'vitest';
import { taskMachine } from '../../machines/task.js';
import { done, recordingActor, taskInput } from '../helpers/machine-events.js';

const plan = { files_touched: ['src/a.js'], tests: [], dependencies: [], risk: 'low' };
const toAwaitingHuman = [
  done('plan', { ok: true, plan, costUsd: 0 }),
  done('claimSlot', { granted: true, host: 'local' }),
  done('provision', { branch: 'oxi/t1', worktree: '/w/t1' }),
  done('runAgent', { outcome: 'ok', costUsd: 0, backend: 'scripted' }),
  done('ship', { headSha: 'abc', empty: false }),
  done('openPr', { pr: 7, merged: false }),
  done('runChecks', { state: 'success', summary: '' }),
  done('critique', { verdict: 'approve', reasons: [], costUsd: 0 }),
  done('merge', { outcome: 'refused', detail: 'waiting for the forge\'s auto-merge' }),
];

function start(policy: Partial<typeof taskInput.policy> & { onClosedPr?: 'abandon' | 'replan' }) {
  const r = recordingActor(taskMachine, { ...taskInput, policy: { ...taskInput.policy, ...policy } });
  for (const e of toAwaitingHuman) r.send(e);
  expect(r.actor.getSnapshot().value).toEqual({ live: 'awaiting_human' });
  return r;
}

describe('task machine: what prWatcher reports while a PR waits on a human', () => {
  it('a review requesting changes sends the task back to its worker with the review as feedback', () => {
    const r = start({});
    r.send({ type: 'pr.changes_requested', detail: '@octocat: use a constant' });
    const s = r.actor.getSnapshot();
    expect(s.value).toEqual({ live: 'waiting' });
    expect(s.context).toMatchObject({ fix: 1, feedback: 'A reviewer requested changes:\n@octocat: use a constant' });
  });

  it('red CI does the same, and the fix loop is bounded: past maxFixAttempts the task is abandoned with the reason', () => {
    const r = start({ maxFixAttempts: 0 });
    r.send({ type: 'pr.checks_failed', detail: 'check test: failure' });
    expect(r.actor.getSnapshot().value).toBe('abandoned');
    expect(r.actor.getSnapshot().context.reason).toBe('rejected after 0 fix attempts: CI failed: check test: failure');
  });

  it('a PR closed unmerged abandons the task by default', () => {
    const r = start({});
    r.send({ type: 'pr.closed' });
    expect(r.actor.getSnapshot().value).toBe('abandoned');
    expect(r.actor.getSnapshot().context.reason).toBe('PR closed unmerged');
  });

  it('with onClosedPr "replan" it is planned again as a new attempt, while attempts remain', () => {
    const r = start({ onClosedPr: 'replan', maxAttempts: 2 });
    r.send({ type: 'pr.closed' });
    expect(r.actor.getSnapshot().value).toEqual({ live: 'planning' });
    expect(r.actor.getSnapshot().context).toMatchObject({ attempt: 1, pr: null, plan: null, reason: 'PR closed unmerged: planning again' });
    for (const e of toAwaitingHuman) r.send(e);
    r.send({ type: 'pr.closed' });
    expect(r.actor.getSnapshot().value).toBe('abandoned');
  });
});
