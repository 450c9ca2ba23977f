import { taskMachine } from './task.js';

export type StateValue = string | { [key: string]: StateValue };

/**
 * The status name of a state value: the state under `live` (every machine's working region),
 * else the top-level state. `{live: 'working'}` → `working`; `{live: {available: 'ready'}}` → `ready`.
 */
export function statusOf(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, inner] = Object.entries(value)[0] ?? ['unknown', 'unknown'];
  if (key === 'live') return leaf(inner);
  return key;
}

function leaf(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, inner] = Object.entries(value)[0] ?? ['unknown', 'unknown'];
  // One level of nesting names the status (available.ready → ready, ok.waiting → ok).
  return typeof inner === 'string' && (key === 'available' ) ? inner : key;
}

/**
 * Routine polling loops of background actors (idle ⇄ scanning every interval) would flood the
 * ledger; their snapshots are still persisted on every transition, but only transitions that
 * mean something get a ledger row. Tasks and engineState: every state change is recorded.
 */
const ROUTINE: Record<string, Set<string>> = {
  seeder: new Set(['seeding', 'idle']),
  reaper: new Set(['idle', 'scanning']),
  prWatcher: new Set(['idle', 'scanning']),
  deadman: new Set(['ok']),
  oauthWatch: new Set(['checking', 'ok']),
  host: new Set(['connecting', 'ready']),
  // A run is its own promote.run row; the looks between runs are routine.
  promoter: new Set(['starting', 'dormant', 'checking', 'deciding', 'waiting', 'resting']),
};

export function ledgerWorthy(machine: string, from: string, to: string): boolean {
  const routine = ROUTINE[machine];
  if (!routine) return true;
  return !(routine.has(from) && routine.has(to));
}

/** The part of a state node the vocabulary is read from (xstate's public StateNode API). */
interface StateNodeShape {
  key: string;
  type: string;
  states: Record<string, StateNodeShape>;
  /** Event types this state itself has transitions for. */
  ownEvents?: readonly string[];
}

/** A status list names a state the task machine does not have (a rename not carried over). */
export class StatusVocabularyError extends Error {}

/** A task row's status before its machine exists: the seeder brings `queued` rows alive. */
export const ROW_ONLY_STATUS = 'queued';

/**
 * Every status a task row can hold, in the machine's order: `queued`, then each state `statusOf`
 * can return for the task machine — the states of its `live` region (history states aside) and
 * its other top-level states. Derived, so a state added to the machine is a status everywhere.
 */
export function statusesOf(root: StateNodeShape): string[] {
  return statusNodes(root).map((n) => n.key);
}

/** The state nodes a status names: the `live` region's states (history states aside), then the other top-level ones. */
function statusNodes(root: StateNodeShape): StateNodeShape[] {
  return Object.values(root.states).flatMap((node) => (node.key === 'live' ? Object.values(node.states).filter((c) => c.type !== 'history') : [node]));
}

/** The statuses whose state itself handles `eventType` (e.g. where `task.retry` means something). */
export function statusesHandling(root: StateNodeShape, eventType: string): string[] {
  return statusNodes(root)
    .filter((n) => (n.ownEvents ?? []).includes(eventType))
    .map((n) => n.key);
}

/** The statuses of final states: nothing follows them. */
export function finalStatusesOf(root: StateNodeShape): string[] {
  return Object.values(root.states).filter((n) => n.type === 'final').map((n) => n.key);
}

const taskRoot = taskMachine.root as unknown as StateNodeShape;
export const TASK_STATUSES: readonly string[] = Object.freeze([ROW_ONLY_STATUS, ...statusesOf(taskRoot)]);
export const TERMINAL_TASK_STATUSES: readonly string[] = Object.freeze(finalStatusesOf(taskRoot));
/** Live statuses in which a human's `task.retry` moves the task on (the states that handle it). */
export const RETRY_TASK_STATUSES: readonly string[] = Object.freeze(statusesHandling(taskRoot, 'task.retry'));
/** Parked: nothing moves without a timer, a human or an unkill — the retryable states and the one `engine.resumed` leaves. */
export const PARKED_TASK_STATUSES: readonly string[] = Object.freeze([...RETRY_TASK_STATUSES, ...statusesHandling(taskRoot, 'engine.resumed')]);
/** Statuses of tasks whose machine runs: not queued, not finished. */
export const LIVE_TASK_STATUSES: readonly string[] = Object.freeze(TASK_STATUSES.filter((s) => s !== ROW_ONLY_STATUS && !TERMINAL_TASK_STATUSES.includes(s)));
/** Statuses in which an effect is at work and must show progress (the dead-man watches these). */
export const EFFECT_TASK_STATUSES: readonly string[] = Object.freeze(pick('provisioning', 'working', 'shipping', 'checks', 'reviewing', 'merging'));
/** Statuses of tasks about to ask the dispatch pool for a slot (they keep the slots a later waiter would take). */
export const PRE_DISPATCH_STATUSES: readonly string[] = Object.freeze(pick('planning', 'waiting'));

/** Names a subset of TASK_STATUSES; a name the machine no longer has fails at load, not silently in SQL. */
function pick(...names: string[]): string[] {
  const unknown = names.filter((n) => !TASK_STATUSES.includes(n));
  if (unknown.length) throw new StatusVocabularyError(`Expected task statuses the task machine has; ${unknown.join(', ')} is not one of ${TASK_STATUSES.join(', ')}. Update machines/status.ts.`);
  return names;
}
