/** The phases a task's states fall in: the timeline's lanes and the statechart's groups. */
export const PHASES = ['queued', 'planning', 'working', 'checks', 'review', 'merge', 'done'] as const;
export type Phase = (typeof PHASES)[number];

const PHASE_OF: Record<string, Phase> = {
  queued: 'queued', waiting: 'queued', deferred: 'queued', backoff: 'queued', held: 'queued',
  planning: 'planning',
  provisioning: 'working', working: 'working', shipping: 'working', reaped: 'working', rejected: 'working',
  pr_open: 'checks', checks: 'checks',
  reviewing: 'review', awaiting_human: 'review',
  pr_backoff: 'merge', merging: 'merge',
  merged: 'done', abandoned: 'done',
};

/** The phase of a task status (a state key of the task machine); undefined for a key that is none. */
export function phaseOf(status: string): Phase | undefined {
  return Object.hasOwn(PHASE_OF, status) ? PHASE_OF[status] : undefined;
}
