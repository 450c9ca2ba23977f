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
};

export function ledgerWorthy(machine: string, from: string, to: string): boolean {
  const routine = ROUTINE[machine];
  if (!routine) return true;
  return !(routine.has(from) && routine.has(to));
}
