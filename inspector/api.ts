import { getTask, listTasks } from '../src/store/tasks.js';
import { listEvents } from '../src/store/ledger.js';
import { sayAction } from './say-action.js';
import { killAction, retryAction, unkillAction, type ActionResult, type ActionTarget } from './actions.js';
import { actorJournal, listActors, taskJournal, toEntry } from './journal.js';
import { graphOf, MACHINES } from './machine-graph.js';
import type { InspectionRelay } from './relay.js';
import { currentTriage, latestTriage } from '../src/store/inference.js';
import { buildSnapshot, shadowOf, toTaskView } from './snapshot.js';
import { buildPromoteView } from './promote-view.js';
import { prDetail } from '../src/store/pull-requests.js';
import { decodeSegment as dec } from './task-api.js';

export interface ApiContext extends ActionTarget {
  relay?: InspectionRelay;
  inspecting: boolean;
}

const ok = (body: unknown): ActionResult => ({ status: 200, body: body as Record<string, unknown> });
const notFound = (what: string): ActionResult => ({ status: 404, body: { error: `${what} not found.` } });

/** The read side of /api/v1: every answer is built from the database (and the engine when attached). */
export function readApi(ctx: ApiContext, path: string, query: URLSearchParams): ActionResult {
  const { db, adapter, engine } = ctx;
  if (path === '/api/v1/snapshot') return ok(buildSnapshot(db, adapter, engine));
  if (path === '/api/v1/tasks') {
    const status = query.get('status') ?? undefined;
    const phase = query.get('phase');
    const triage = latestTriage(db);
    const tasks = listTasks(db, { status }).map((t) => toTaskView(adapter, t, currentTriage(triage, t))).filter((t) => !phase || t.phase === phase);
    return ok({ schema: 'oxi.tasks.v1', tasks });
  }
  if (path === '/api/v1/actors') return ok({ actors: listActors(db) });
  if (path === '/api/v1/shadow') return ok(shadowOf(db, adapter));
  if (path === '/api/v1/promote') return ok({ schema: 'oxi.promote.v1', recipes: buildPromoteView(db, adapter, { runs: 20, tails: true })?.recipes ?? [] });
  if (path === '/api/v1/machines') return ok({ machines: Object.keys(MACHINES) });
  if (path === '/api/v1/inspection') return ok({ enabled: ctx.inspecting, sessions: ctx.relay?.sessions() ?? [] });
  if (path === '/api/v1/ledger') {
    const after = Number(query.get('after') ?? 0);
    const limit = Math.min(Math.max(Number(query.get('limit') ?? 200), 1), 1000);
    if (!Number.isFinite(after) || !Number.isFinite(limit)) return { status: 400, body: { error: 'ledger: expected numeric ?after=<id>&limit=<n>.' } };
    const rows = after > 0 ? listEvents(db, { afterId: after }).slice(0, limit) : listEvents(db, { limit });
    return ok({ rows: rows.map((r) => toEntry(r)) });
  }
  const bad = badEncoding(path);
  if (bad) return bad;
  let m = /^\/api\/v1\/tasks\/([^/]+)(\/journal)?$/.exec(path);
  if (m) {
    const id = dec(m[1]);
    const row = getTask(db, id);
    if (!row) return notFound(`Task "${id}"`);
    const view = toTaskView(adapter, row, currentTriage(latestTriage(db, [row.id]), row));
    return ok(m[2] ? { task: view, ...taskJournal(db, id) } : view);
  }
  m = /^\/api\/v1\/actors\/([^/]+)\/journal$/.exec(path);
  if (m) {
    const journal = actorJournal(db, dec(m[1]));
    return journal.current || journal.entries.length ? ok(journal) : notFound(`Actor "${dec(m[1])}"`);
  }
  m = /^\/api\/v1\/machines\/([^/]+)$/.exec(path);
  if (m) {
    const graph = graphOf(dec(m[1]));
    return graph ? ok(graph) : notFound(`Machine "${dec(m[1])}" (known: ${Object.keys(MACHINES).join(', ')})`);
  }
  m = /^\/api\/v1\/prs\/(\d+)$/.exec(path);
  if (m) {
    // The local forge's pull requests are rows; show what a forge page would (the checks log trimmed).
    const pr = prDetail(db, Number(m[1]));
    return pr ? ok(pr) : notFound(`Pull request #${m[1]}`);
  }
  return notFound(`GET ${path}`);
}

/** The write side: the same events as the CLI. The caller has checked the token and the origin. */
export async function actionApi(ctx: ApiContext, path: string, body: unknown, by: string): Promise<ActionResult> {
  const bad = badEncoding(path);
  if (bad) return bad;
  if (path === '/api/v1/kill') return killAction(ctx, body, by);
  if (path === '/api/v1/unkill') return unkillAction(ctx, by);
  const m = /^\/api\/v1\/tasks\/([^/]+)\/retry$/.exec(path);
  if (m) return retryAction(ctx, dec(m[1]), by);
  const say = /^\/api\/v1\/tasks\/([^/]+)\/say$/.exec(path);
  if (say) return sayAction(ctx, dec(say[1]), body, by);
  return notFound(`POST ${path}`);
}

/** A path whose percent-encoding does not decode (`%E0%A4%A`, a lone `%`) is the client's mistake: 400, not a crash. */
function badEncoding(path: string): { status: 400; body: { error: string } } | undefined {
  try {
    decodeURIComponent(path);
    return undefined;
  } catch {
    return { status: 400, body: { error: `Expected a percent-encoded path (encodeURIComponent of each id), got ${JSON.stringify(path.slice(0, 200))}: not valid percent-encoding.` } };
  }
}
