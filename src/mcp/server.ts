/**
 * `oxi mcp`: oxi as a Model Context Protocol server, so Claude Code, Claude Desktop, editors and other
 * agents can read its tasks and act on it. Every tool goes through the code the CLI and the dashboard
 * use (the same database, the daemon's socket, the same ledger rows); each tool that changes something
 * also writes an `mcp.tool` ledger row saying what was asked.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { killAction, retryAction, unkillAction, type ActionResult } from '../../inspector/actions.js';
import { buildSnapshot, SNAPSHOT_SCHEMA } from '../../inspector/snapshot.js';
import { roadmapSourceFor } from '../../actors/roadmap/from-adapter.js';
import { statusData, TASK_STATUSES } from '../cli/commands/read.js';
import type { Adapter } from '../config/schema.js';
import { OxiError } from '../errors.js';
import type { RoadmapSource } from '../roadmap/source.js';
import { appendEvent } from '../store/ledger.js';
import type { Db } from '../store/db.js';
import { listTasks } from '../store/tasks.js';
import { sayControl, type ControlPort } from './control-port.js';
import { taskDetail } from './task-detail.js';

export interface OxiMcpOptions {
  adapter: Adapter;
  db: Db;
  /** Adds `kill` and `unkill` (`oxi mcp --allow-control`). */
  allowControl?: boolean;
  control?: ControlPort;
  /** The roadmap source `add_roadmap_item` writes to (default: the adapter's). */
  roadmap?: RoadmapSource;
  version?: string;
}

/** Who the ledger names for what an MCP client did. */
const BY = 'mcp';

type ToolResult = { content: Array<{ type: 'text'; text: string }>; isError?: boolean };
const ok = (data: unknown): ToolResult => ({ content: [{ type: 'text', text: JSON.stringify(data, null, 2) }] });
const failed = (message: string, fix?: string): ToolResult => ({ content: [{ type: 'text', text: fix ? `${message}\nfix: ${fix}` : message }], isError: true });

/** Errors become tool errors the client's model can read (what went wrong, how to fix it); a bug stays a bug. */
async function guarded(fn: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof OxiError) return failed(error.message, error.fix);
    throw error;
  }
}

const fromAction = (r: ActionResult): ToolResult => (r.status === 200 ? ok(r.body) : failed(String(r.body.error), typeof r.body.fix === 'string' ? r.body.fix : undefined));

export function createOxiMcpServer(o: OxiMcpOptions): McpServer {
  const { adapter, db } = o;
  const control = o.control ?? sayControl(o.db, o.adapter.paths.stateDir);
  const target = { adapter, db };
  let source = o.roadmap;
  /** A tool that changes something: run, then one `mcp.tool` row with what was asked and whether it worked. */
  const audited = async (tool: string, args: Record<string, unknown>, fn: () => Promise<ToolResult>) => {
    const result = await guarded(fn);
    appendEvent(db, { at: Date.now(), actor: BY, kind: 'mcp.tool', task: typeof args.id === 'string' ? args.id : typeof args.taskId === 'string' ? args.taskId : null, payload: { tool, args, ok: !result.isError } });
    return result;
  };
  const server = new McpServer({ name: 'oxi', version: o.version ?? '0.0.0' }, { instructions: `oxi runs the roadmap of ${adapter.name}: tasks are planned, worked on by coding agents, reviewed and merged. Read with status, list_tasks and get_task; add work with add_roadmap_item.` });

  server.registerTool('status', { description: 'Engine state (running, killed and why), task counts per status, hosts, today\'s spend against the caps — what `oxi status --json` prints.', annotations: { readOnlyHint: true } }, () =>
    guarded(async () => ok((await statusData(adapter, db)).data)),
  );
  server.registerTool(
    'list_tasks',
    { description: 'The tasks, in tier order: id (`<repo>/<id>` when the adapter names several repositories), repo, title, tier, status, attempts, PR, reason. Optionally only one status.', inputSchema: { status: z.enum(TASK_STATUSES).optional().describe('Only tasks with this status') }, annotations: { readOnlyHint: true } },
    ({ status }) => guarded(async () => ok(listTasks(db, { status }).map((t) => ({ id: t.id, repo: t.repo, title: t.title, tier: t.tier, status: t.status, attempts: t.attempt + (t.status === 'queued' ? 0 : 1), pr: t.pr, reason: t.reason, costUsd: t.cost_usd })))),
  );
  server.registerTool(
    'get_task',
    { description: 'One task in full: description, plan, PR (number and URL), last failure, and the tail of its agent transcript.', inputSchema: { id: z.string().min(1).describe('Task id, e.g. T0-101 or GH-12'), tailLines: z.number().int().min(1).max(500).optional().describe('Transcript lines (default 40)') }, annotations: { readOnlyHint: true } },
    ({ id, tailLines }) => guarded(async () => {
      const detail = taskDetail(db, adapter, id, tailLines);
      return detail ? ok(detail) : failed(`No task "${id}" in this project.`, 'Use list_tasks for the ids (they are case-sensitive).');
    }),
  );
  server.registerTool(
    'add_roadmap_item',
    {
      description: 'Adds an item to the roadmap: appended to the roadmap file (checked by the parser) or, with the GitHub Issues source, a labelled issue. The seeder picks it up on its next tick.',
      inputSchema: {
        tier: z.number().int().min(0).describe('Priority tier: 0 goes first'),
        title: z.string().min(1).max(200).describe('One line'),
        description: z.string().max(4000).describe('What to do and how to know it is done'),
        id: z.string().regex(/^T\d+-[A-Za-z0-9]+$/).optional().describe('A T<tier>-<n> id; omitted, the next free one (or the issue number)'),
      },
    },
    (item) => {
      const asked: Record<string, unknown> = { ...item };
      return audited('add_roadmap_item', asked, async () => {
        source ??= roadmapSourceFor(adapter);
        const added = await source.add(item);
        asked.id = added.id;
        return ok({ ...added, source: source.kind });
      });
    },
  );
  server.registerTool(
    'retry_task',
    { description: 'Retries a task: an abandoned one goes back to the queue with a fresh attempt count; a live one parked in backoff, deferred or awaiting_human tries again now. Same as the dashboard\'s retry.', inputSchema: { id: z.string().min(1).describe('Task id') } },
    ({ id }) => audited('retry_task', { id }, async () => fromAction(await retryAction(target, id, BY))),
  );
  server.registerTool(
    'say',
    { description: 'Sends a message to the live agent working on a task (guidance, a correction).', inputSchema: { taskId: z.string().min(1).describe('Task id'), message: z.string().min(1).max(8000).describe('What to tell the agent') } },
    ({ taskId, message }) => audited('say', { taskId, chars: message.length }, async () => ok(await control.say(taskId, message))),
  );
  if (o.allowControl) {
    server.registerTool(
      'kill',
      { description: 'Sets the killswitch: no actor starts a new side effect (hard: running agents are terminated too). Holds with no daemon, honoured at start.', inputSchema: { reason: z.string().min(1).max(500).describe('Why'), hard: z.boolean().optional().describe('Also terminate running agent sessions') }, annotations: { destructiveHint: true } },
      ({ reason, hard }) => audited('kill', { reason, hard: hard === true }, async () => fromAction(await killAction(target, { reason, hard }, BY))),
    );
    server.registerTool('unkill', { description: 'Clears the killswitch: every actor resumes where it was.' }, () =>
      audited('unkill', {}, async () => fromAction(await unkillAction(target, BY))),
    );
  }
  server.registerResource(SNAPSHOT_SCHEMA, 'oxi://snapshot', { title: 'oxi snapshot', description: `The whole picture (${SNAPSHOT_SCHEMA}, documented in docs/dashboard.md): engine, hosts, gates, tasks, counts, spend.`, mimeType: 'application/json' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(buildSnapshot(db, adapter)) }],
  }));
  return server;
}
