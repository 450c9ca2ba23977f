/**
 * GitHub reports CI two ways that do not include each other: legacy commit statuses (combined status)
 * and check runs (Actions, apps). A head is green only when both say so.
 */

export interface CommitStatus {
  context: string;
  state: string; // error | failure | pending | success
  description?: string | null;
  target_url?: string | null;
}

export interface CheckRun {
  name: string;
  status: string; // queued | in_progress | completed | waiting | requested | pending
  conclusion: string | null; // success | failure | neutral | cancelled | skipped | timed_out | action_required | stale | null
  html_url?: string | null;
}

export interface ChecksVerdict {
  state: 'pending' | 'success' | 'failure';
  /** Names of the statuses / check runs that failed (empty unless failure). */
  failed: string[];
  /** Names still running (empty unless pending). */
  running: string[];
  /** No status and no check run at all: the repo may have no CI, or CI has not registered yet. */
  none: boolean;
  log: string;
}

const RUN_OK = new Set(['success', 'neutral', 'skipped']);

export function checksVerdict(statuses: CommitStatus[], runs: CheckRun[]): ChecksVerdict {
  // A context may be reported several times; GitHub's combined status keeps the latest, first in the list.
  const latest = new Map<string, CommitStatus>();
  for (const s of statuses) if (!latest.has(s.context)) latest.set(s.context, s);
  const failed: string[] = [];
  const running: string[] = [];
  const lines: string[] = [];
  for (const s of latest.values()) {
    lines.push(`status ${s.context}: ${s.state}${s.description ? ` — ${s.description}` : ''}${s.target_url ? ` (${s.target_url})` : ''}`);
    if (s.state === 'failure' || s.state === 'error') failed.push(s.context);
    else if (s.state !== 'success') running.push(s.context);
  }
  for (const r of runs) {
    const done = r.status === 'completed';
    lines.push(`check ${r.name}: ${done ? r.conclusion ?? 'completed' : r.status}${r.html_url ? ` (${r.html_url})` : ''}`);
    if (!done) running.push(r.name);
    else if (!RUN_OK.has(r.conclusion ?? '')) failed.push(r.name);
  }
  const none = latest.size === 0 && runs.length === 0;
  const state = failed.length ? 'failure' : running.length || none ? 'pending' : 'success';
  return { state, failed, running: state === 'pending' ? running : [], none, log: lines.join('\n') };
}
