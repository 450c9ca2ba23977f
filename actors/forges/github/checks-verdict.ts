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
  /** What the CI app reported: Actions puts the failing step's summary here; a test app often its log. */
  output?: { title?: string | null; summary?: string | null; text?: string | null } | null;
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
/** Per failed run, this much of its reported output (the tail: failures print last). */
const OUTPUT_CHARS = 3000;

/** A failed run's own report, indented under its line: without it the worker would learn only "test: failure". */
function outputOf(run: CheckRun): string[] {
  const parts = [run.output?.title, run.output?.summary, run.output?.text].map((p) => p?.trim()).filter((p): p is string => !!p);
  const unique = parts.filter((p, i) => parts.indexOf(p) === i);
  if (unique.length === 0) return [];
  const text = unique.join('\n').split('\n').map((line) => `  ${line}`).join('\n');
  if (text.length <= OUTPUT_CHARS) return text.split('\n');
  // Whole lines only: a line cut in half reads as a different error.
  const tail = text.slice(-OUTPUT_CHARS);
  return [`  … (${text.length - OUTPUT_CHARS} characters above cut)`, ...tail.slice(tail.indexOf('\n') + 1).split('\n')];
}

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
    else if (!RUN_OK.has(r.conclusion ?? '')) {
      failed.push(r.name);
      lines.push(...outputOf(r));
    }
  }
  const none = latest.size === 0 && runs.length === 0;
  const state = failed.length ? 'failure' : running.length || none ? 'pending' : 'success';
  return { state, failed, running: state === 'pending' ? running : [], none, log: lines.join('\n') };
}
