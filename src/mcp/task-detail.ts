/** `get_task`: one task with its plan, PR, last failure and the tail of its agent transcript. */
import { renderEvent } from '../agents/render.js';
import { StreamFileReader } from '../agents/stream-file.js';
import { streamFiles } from '../cli/commands/tail.js';
import type { Adapter } from '../config/schema.js';
import { adapterForTask } from '../config/repos.js';
import type { Db } from '../store/db.js';
import { logsRemovedAt } from '../store/task-logs.js';
import { getTask } from '../store/tasks.js';
import { lastFailureOfTask } from '../store/ledger-queries.js';
import { prUrl } from '../../inspector/snapshot.js';

export function taskDetail(db: Db, adapter: Adapter, id: string, tailLines = 40) {
  const t = getTask(db, id);
  if (!t) return undefined;
  const failure = lastFailureOfTask(db, id);
  return {
    id: t.id,
    repo: t.repo,
    title: t.title,
    description: t.description,
    tier: t.tier,
    status: t.status,
    attempts: t.attempt + (t.status === 'queued' ? 0 : 1),
    reason: t.reason,
    host: t.host,
    branch: t.branch,
    costUsd: t.cost_usd,
    lastProgressAt: new Date(t.last_progress_at).toISOString(),
    onRoadmap: t.roadmap_state === 'present',
    plan: t.plan ? (JSON.parse(t.plan) as unknown) : null,
    pr: t.pr === null ? null : { number: t.pr, url: prUrl(adapterForTask(adapter, t), t.pr) },
    lastFailure: failure ? { at: new Date(failure.at).toISOString(), kind: failure.kind, actor: failure.actor, detail: JSON.parse(failure.payload) as unknown } : null,
    transcriptTail: transcriptTail(adapter.paths.logs, id, tailLines),
    // The janitor removed the task's agent logs (engine.janitor.logsKeepMs): why the tail above is empty.
    logsRemovedAt: ((at) => (at === undefined ? null : new Date(at).toISOString()))(logsRemovedAt(db, id)),
  };
}

/** The last `n` lines of the task's agent streams, in the human form `oxi tail` prints. */
function transcriptTail(logs: string, id: string, n: number): string[] {
  const lines: string[] = [];
  for (const file of streamFiles(logs, id)) {
    const reader = new StreamFileReader(file);
    for (const e of [...reader.read(), ...reader.end()]) {
      const line = renderEvent(e);
      if (line) lines.push(line);
    }
  }
  return lines.slice(-n);
}
