/** The task status vocabulary is the task machine's states, derived, never spelled out again. */
import { describe, expect, it } from 'vitest';
import { taskMachine } from '../../machines/task.js';
import {
  EFFECT_TASK_STATUSES,
  finalStatusesOf,
  LIVE_TASK_STATUSES,
  PARKED_TASK_STATUSES,
  PRE_DISPATCH_STATUSES,
  RETRY_TASK_STATUSES,
  ROW_ONLY_STATUS,
  statusesOf,
  statusOf,
  TASK_STATUSES,
  TERMINAL_TASK_STATUSES,
} from '../../machines/status.js';

type Node = { key: string; type: string; states: Record<string, Node> };

/** A state value for each state of the task machine (a nested state's first child standing for it), as xstate writes them. */
function stateValues(root: Node): unknown[] {
  const valueOf = (node: Node): unknown => {
    const children = Object.values(node.states).filter((c) => c.type !== 'history');
    return children.length ? { [node.key]: valueOf(children[0]) } : node.key;
  };
  return Object.values(root.states).flatMap((top) =>
    top.key === 'live' ? Object.values(top.states).filter((c) => c.type !== 'history').map((c) => ({ live: valueOf(c) })) : [valueOf(top)],
  );
}

describe('task statuses', () => {
  it('are queued plus exactly the statuses the task machine can be in', () => {
    const root = taskMachine.root as unknown as Node;
    const reachable = new Set(stateValues(root).map((v) => statusOf(v as never)));
    expect(new Set(TASK_STATUSES)).toEqual(new Set([ROW_ONLY_STATUS, ...reachable]));
    expect(TASK_STATUSES).toHaveLength(new Set(TASK_STATUSES).size);
  });

  it('name every state of the live region and every other top-level state, in the machine order', () => {
    const root = taskMachine.root as unknown as Node;
    const live = Object.keys(root.states.live.states).filter((k) => root.states.live.states[k].type !== 'history');
    const top = Object.keys(root.states).filter((k) => k !== 'live');
    expect(TASK_STATUSES).toEqual([ROW_ONLY_STATUS, ...live, ...top]);
    expect(TASK_STATUSES).toEqual(expect.arrayContaining(['planning', 'working', 'pr_open', 'awaiting_human', 'held', 'merged', 'abandoned']));
  });

  it('derives terminal, live and named subsets from the same states', () => {
    expect(TERMINAL_TASK_STATUSES).toEqual(['merged', 'abandoned']);
    expect(LIVE_TASK_STATUSES).not.toContain('queued');
    expect(LIVE_TASK_STATUSES).toHaveLength(TASK_STATUSES.length - 1 - TERMINAL_TASK_STATUSES.length);
    for (const s of [...EFFECT_TASK_STATUSES, ...PRE_DISPATCH_STATUSES]) expect(LIVE_TASK_STATUSES).toContain(s);
  });

  it('retryable and parked are the states that handle task.retry (and engine.resumed)', () => {
    expect([...RETRY_TASK_STATUSES].sort()).toEqual(['awaiting_human', 'backoff', 'deferred', 'pr_backoff']);
    expect([...PARKED_TASK_STATUSES].sort()).toEqual(['awaiting_human', 'backoff', 'deferred', 'held', 'pr_backoff']);
    const root = taskMachine.root as unknown as { states: Record<string, { states: Record<string, { ownEvents: string[] }> }> };
    for (const s of RETRY_TASK_STATUSES) expect(root.states.live.states[s].ownEvents).toContain('task.retry');
  });

  it('follow a machine edit: a renamed state changes the list', () => {
    const root = { key: 'x', type: 'compound', states: { live: { key: 'live', type: 'compound', states: { a: { key: 'a', type: 'atomic', states: {} }, h: { key: 'h', type: 'history', states: {} } } }, done: { key: 'done', type: 'final', states: {} } } };
    expect(statusesOf(root as never)).toEqual(['a', 'done']);
    expect(finalStatusesOf(root as never)).toEqual(['done']);
  });
});
