/**
 * The triage prompt: a compact account of why a task stopped, built from its ledger (the reason column,
 * the last failure, the critic's reasons, the last transitions). Pure: the same rows give the same prompt.
 * Bounded, so a huge checks log in a reason never makes a large (costly) call.
 */
import type { LedgerRow } from '../../src/store/ledger.js';
import type { ChatMessage } from './client.js';

export interface TriageFacts {
  task: { id: string; title: string; status: string; attempt: number; reason: string | null };
  /** The task's newest ledger rows, oldest first. */
  recent: LedgerRow[];
  /** The newest note before the stop that says something went wrong (ledger-queries lastFailureNoteBefore). */
  lastFailure?: Pick<LedgerRow, 'kind' | 'payload'>;
  /** The newest critic verdict, with its reasons. */
  critic?: { verdict: string; reasons: string[] };
}

const SYSTEM =
  'You triage stuck tasks of an autonomous coding pipeline for the human on call. Answer with ONE paragraph ' +
  '(at most five sentences, no list, no heading, no preamble): why the task stopped, and what a human should ' +
  'look at or decide first. Use only the facts given; say so when they are not enough.';

// Keys whose values never leave the engine, whatever row they are in.
const SECRET_KEY = /(token|secret|password|passwd|api[_-]?key|private[_-]?key|credential|cookie|authorization|auth)$/i;

function clip(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function payloadText(payload: string, max: number): string {
  try {
    const value = JSON.parse(payload) as Record<string, unknown>;
    const safe = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : v]));
    return clip(JSON.stringify(safe), max);
  } catch {
    return clip(payload, max);
  }
}

/** One ledger row as one line: a transition `task.<to> ← <from> (<event>)`, a note with its payload. */
function line(row: LedgerRow): string {
  try {
    const p = JSON.parse(row.payload) as { from?: unknown; event?: unknown };
    if (typeof p.from === 'string') return `${row.kind} ← ${p.from}${typeof p.event === 'string' ? ` (${p.event})` : ''}`;
  } catch {
    // not JSON: shown as text below
  }
  return `${row.kind} ${payloadText(row.payload, 200)}`;
}

export function triagePrompt(f: TriageFacts): ChatMessage[] {
  const t = f.task;
  const parts = [
    `Task ${t.id}: ${clip(t.title, 200)}`,
    `Stopped in: ${t.status === 'abandoned' ? 'abandoned (the engine gave up on it)' : 'awaiting_human (the engine will not merge it without a human)'}, after ${t.attempt + 1} attempt(s).`,
    `Reason recorded: ${t.reason ? clip(t.reason, 800) : '(none)'}`,
  ];
  if (f.lastFailure) parts.push(`Last failure (${f.lastFailure.kind}): ${payloadText(f.lastFailure.payload, 600)}`);
  if (f.critic) parts.push(`Latest critic verdict: ${f.critic.verdict}${f.critic.reasons.length ? `\n${f.critic.reasons.slice(0, 8).map((r) => `- ${clip(r, 300)}`).join('\n')}` : ' (no reasons given)'}`);
  if (f.recent.length) parts.push(`Recent ledger, oldest first:\n${f.recent.map((r) => `- ${line(r)}`).join('\n')}`);
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

/** The model's answer as the recorded summary: its first paragraph, bounded. */
export function summaryOf(text: string): string {
  const first = text.trim().split(/\n\s*\n/)[0] ?? '';
  return clip(first, 1200);
}
