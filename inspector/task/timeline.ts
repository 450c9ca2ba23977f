/**
 * Task timelines from the ledger's transition rows: each state a task was in, from when to when,
 * its phase, and the round it belongs to (a round starts at each provisioning: the first attempt,
 * a retry, or a fix after a rejection), so attempts and fix loops show on the time axis.
 */
import type { Db } from '../../src/store/db.js';
import type { LedgerRow } from '../../src/store/ledger.js';
import { getTask } from '../../src/store/tasks.js';
import { taskTransitions, tasksMovedSince } from '../../src/store/ledger-queries.js';
import { toEntry } from '../journal.js';
import { phaseOf, PHASES } from './phases.js';

export interface Segment {
  state: string;
  phase: string;
  from: number;
  /** null: the task is still in this state. */
  to: number | null;
  round: number;
  event: string | null;
}

export interface TaskTimeline {
  task: string;
  title: string;
  status: string;
  segments: Segment[];
  rounds: number;
  /** Times the task went back to work after a rejection (checks, critic, conflict). */
  fixes: number;
}

const TERMINAL = new Set(['merged', 'abandoned']);

function timelineOf(db: Db, taskId: string, rows: LedgerRow[]): TaskTimeline | undefined {
  const task = getTask(db, taskId);
  if (!task) return undefined;
  const segments: Segment[] = [];
  let round = 0;
  let fixes = 0;
  let open: Segment = { state: 'queued', phase: 'queued', from: task.created_at, to: null, round, event: null };
  for (const row of rows) {
    const e = toEntry(row, 'task');
    if (!e.to) continue;
    if (e.to === 'provisioning') round += 1;
    if (e.from === 'rejected' && e.to === 'waiting') fixes += 1;
    open.to = Math.max(open.from, e.at);
    segments.push(open);
    open = { state: e.to, phase: phaseOf(e.to) ?? 'working', from: e.at, to: null, round, event: e.event };
  }
  if (TERMINAL.has(open.state)) open.to = open.from;
  segments.push(open);
  return { task: taskId, title: task.title, status: task.status, segments, rounds: round, fixes };
}

export function taskTimeline(db: Db, taskId: string): TaskTimeline | undefined {
  return timelineOf(db, taskId, taskTransitions(db, [taskId]));
}

/** Every task that moved since `since` (default: the last 24 h), with its whole history. */
export function allTimelines(db: Db, since: number, now = Date.now()) {
  const ids = tasksMovedSince(db, since);
  const byTask = new Map<string, LedgerRow[]>();
  if (ids.length) {
    for (const row of taskTransitions(db, ids)) (byTask.get(row.task!) ?? byTask.set(row.task!, []).get(row.task!)!).push(row);
  }
  const tasks = ids.map((id) => timelineOf(db, id, byTask.get(id) ?? [])).filter((t): t is TaskTimeline => Boolean(t));
  return { schema: 'oxi.timeline.v1', since, now, phases: PHASES, tasks };
}
