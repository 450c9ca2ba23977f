/**
 * The task detail reads of /api/v1: a task's diff, agent transcript (by byte offset, so the page
 * follows a running agent), timeline and review overview, and the timeline of all recent tasks.
 */
import { logsRemoved } from '../src/agents/stream-file.js';
import { logsRemovedAt } from '../src/store/task-logs.js';
import { getTask } from '../src/store/tasks.js';
import type { ActionResult } from './actions.js';
import type { ApiContext } from './api.js';
import { taskDiff } from './task/diff.js';
import { taskOverview } from './task/overview.js';
import { allTimelines, taskTimeline } from './task/timeline.js';
import { readTranscript } from './task/transcript.js';

const DAY = 24 * 3600 * 1000;
const bad = (error: string): ActionResult => ({ status: 400, body: { error } });

/** A path segment decoded, or a 400 for bad percent-encoding (`%E0%A4%A`) instead of a crash. */
export class BadPath extends Error {}
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadPath(`The path segment "${segment.slice(0, 80)}" is not valid percent-encoding: encode it with encodeURIComponent.`);
  }
}

/** Undefined: not a task detail path (the caller tries the other routes). */
export async function taskApi(ctx: ApiContext, path: string, query: URLSearchParams): Promise<ActionResult | undefined> {
  const { db, adapter } = ctx;
  if (path === '/api/v1/timeline') {
    const hours = Number(query.get('hours') ?? 24);
    if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 90) return bad(`timeline: expected ?hours=<1..2160>, got ${JSON.stringify(query.get('hours'))}.`);
    const now = Date.now();
    return { status: 200, body: allTimelines(db, now - hours * 3600 * 1000 || now - DAY, now) };
  }
  const m = /^\/api\/v1\/tasks\/([^/]+)\/(diff|transcript|timeline|overview)$/.exec(path);
  if (!m) return undefined;
  const id = decodeSegment(m[1]);
  const task = getTask(db, id);
  if (!task) return { status: 404, body: { error: `Task "${id}" not found.` } };
  switch (m[2]) {
    case 'diff':
      return { status: 200, body: { ...(await taskDiff(db, adapter, id)) } };
    case 'timeline':
      return { status: 200, body: { schema: 'oxi.timeline.v1', ...taskTimeline(db, id)! } };
    case 'overview':
      return { status: 200, body: taskOverview(db, task) };
    default: {
      const offset = Number(query.get('offset') ?? 0);
      if (!Number.isSafeInteger(offset) || offset < 0) return bad(`transcript: expected ?offset=<bytes, 0 or more>, got ${JSON.stringify(query.get('offset'))}.`);
      const page = readTranscript(adapter.paths.logs, id, query.get('file'), offset);
      if ('error' in page) return { status: 404, body: page };
      const host = adapter.hosts.find((h) => h.name === task.host);
      const removedAt = page.files.length === 0 ? logsRemovedAt(db, id) : undefined;
      const note =
        removedAt !== undefined
          ? ((e) => `${e.message} ${e.fix}`)(logsRemoved(id, removedAt, adapter.engine.janitor.logsKeepMs))
          : host?.kind === 'ssh' && page.files.length === 0
            ? `The agents of ${id} run on ${host.name}: their streams stay on that host (as for \`oxi tail\`).`
            : undefined;
      return { status: 200, body: { ...page, status: task.status, ...(note ? { note } : {}), ...(removedAt !== undefined ? { logsRemovedAt: new Date(removedAt).toISOString() } : {}) } };
    }
  }
}
