import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAdapter } from '../../src/config/load.js';
import { parseRoadmap } from '../../src/roadmap/parse.js';
import { openDb } from '../../src/store/db.js';
import { ingestItems } from '../../src/store/tasks.js';
import { OXI, query, sampleProject } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type CallResult = { content: Array<{ type: string; text?: string }>; isError?: boolean };
const text = (r: unknown) => (r as CallResult).content.map((c) => c.text ?? '').join('');
const json = (r: unknown) => {
  expect((r as CallResult).isError, text(r)).toBeFalsy();
  return JSON.parse(text(r));
};

/** `oxi mcp` as Claude Code runs it: the built CLI as a child, spoken to over its stdin/stdout by the SDK's client. */
async function connect(configPath: string, extra: string[] = []) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [OXI, '--config', configPath, 'mcp', ...extra], stderr: 'pipe' });
  const client = new Client({ name: 'oxi-test', version: '1.0.0' });
  await client.connect(transport);
  const pid = transport.pid!;
  cleanups.push(async () => {
    await client.close();
    // The server ends when its client goes: nothing of the test is left running.
    expect(() => process.kill(pid, 0)).toThrow();
  });
  return client;
}

/** A project whose database holds its roadmap's tasks, one of them abandoned after a failed run with a transcript. */
async function project() {
  const p = sampleProject({ tasks: 3 });
  cleanups.push(p.cleanup);
  const adapter = await loadAdapter({ configPath: p.configPath });
  const db = openDb(adapter.paths.db);
  const items = parseRoadmap(readFileSync(adapter.roadmap, 'utf8')).items;
  ingestItems(db, items.map((i, seq) => ({ id: i.id, repo: adapter.name, tier: i.tier, title: i.title, description: i.description, seq })), Date.now());
  const plan = { summary: 'add double', files_touched: ['src/double.js'] };
  db.prepare(`UPDATE tasks SET status='abandoned', attempt=2, reason='rejected after 2 fix attempts', plan=?, pr=7 WHERE id='T0-101'`).run(JSON.stringify(plan));
  db.prepare(`INSERT INTO event (at, actor, kind, task, payload) VALUES (?, 'task:T0-101', 'checks.failure', 'T0-101', '{"pr":7}')`).run(Date.now());
  db.close();
  mkdirSync(join(adapter.paths.logs, 'T0-101'), { recursive: true });
  const lines = [
    { type: 'system', subtype: 'init', session_id: 's1', model: 'm', cwd: '/w' },
    { type: 'assistant', message: { content: [{ type: 'text', text: 'Writing src/double.js now.' }] } },
  ];
  writeFileSync(join(adapter.paths.logs, 'T0-101', 'worker-1.ndjson'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return { p, adapter, items };
}

describe('oxi mcp over a real stdio transport', () => {
  it('offers the read and work tools (kill and unkill absent), answers each, and records what it changed in the ledger', { timeout: 120_000 }, async () => {
    const { p, adapter, items } = await project();
    const client = await connect(p.configPath);

    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['add_roadmap_item', 'get_task', 'list_tasks', 'retry_task', 'say', 'status']);
    const kill = await client.callTool({ name: 'kill', arguments: { reason: 'x' } }).catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
    expect((kill as CallResult).isError).toBe(true);
    expect(text(kill)).toMatch(/kill/);

    const status = json(await client.callTool({ name: 'status', arguments: {} }));
    expect(status.counts).toEqual({ abandoned: 1, queued: 2 });
    expect(status.engine.killed).toBe(false);

    const listed = json(await client.callTool({ name: 'list_tasks', arguments: {} }));
    expect(listed.map((t: { id: string }) => t.id)).toEqual(items.map((i) => i.id));
    // Every task names its repository (the adapter's name with a single `repo`).
    expect(new Set(listed.map((t: { repo: string }) => t.repo))).toEqual(new Set([adapter.name]));
    expect(json(await client.callTool({ name: 'list_tasks', arguments: { status: 'abandoned' } })).map((t: { id: string }) => t.id)).toEqual(['T0-101']);

    const task = json(await client.callTool({ name: 'get_task', arguments: { id: 'T0-101' } }));
    expect(task).toMatchObject({ id: 'T0-101', status: 'abandoned', reason: 'rejected after 2 fix attempts', plan: { summary: 'add double' }, pr: { number: 7, url: '/prs/7' } });
    expect(task.lastFailure).toMatchObject({ kind: 'checks.failure', detail: { pr: 7 } });
    expect(task.transcriptTail.join('\n')).toContain('Writing src/double.js now.');
    expect(task.logsRemovedAt).toBeNull();
    const missing = await client.callTool({ name: 'get_task', arguments: { id: 'T9-999' } });
    expect((missing as CallResult).isError).toBe(true);
    expect(text(missing)).toContain('No task "T9-999"');

    // Appended to the roadmap file, in the format its parser reads back.
    const added = json(await client.callTool({ name: 'add_roadmap_item', arguments: { tier: 1, title: 'Add `clamp(x, lo, hi)`', description: 'Export clamp from src/clamp.js, with a test.' } }));
    expect(added).toEqual({ id: 'T1-104', where: adapter.roadmap, source: 'markdown' });
    const reparsed = parseRoadmap(readFileSync(adapter.roadmap, 'utf8'));
    expect(reparsed.items.find((i) => i.id === 'T1-104')).toMatchObject({ tier: 1, title: 'Add `clamp(x, lo, hi)`', description: 'Export clamp from src/clamp.js, with a test.' });
    expect(reparsed.problems.filter((x) => x.severity === 'error')).toEqual([]);
    const bad = await client.callTool({ name: 'add_roadmap_item', arguments: { tier: 0, title: 'two\nlines', description: '' } });
    expect((bad as CallResult).isError).toBe(true);
    expect(text(bad)).toMatch(/one-line title/);

    // Retry: the abandoned task is queued again, through the code the dashboard's retry uses.
    expect(json(await client.callTool({ name: 'retry_task', arguments: { id: 'T0-101' } }))).toMatchObject({ retried: 'T0-101', via: 'requeue' });
    expect(query(p.db, `SELECT status, attempt FROM tasks WHERE id='T0-101'`)).toEqual([{ status: 'queued', attempt: 0 }]);
    const again = await client.callTool({ name: 'retry_task', arguments: { id: 'T0-101' } });
    expect((again as CallResult).isError).toBe(true);

    const say = await client.callTool({ name: 'say', arguments: { taskId: 'T0-101', message: 'use a lookup table' } });
    // The same refusal as `oxi say`: the task (queued again) has no live agent session to take it.
    expect((say as CallResult).isError).toBe(true);
    expect(text(say)).toMatch(/has no live agent to tell/);

    const snapshot = await client.readResource({ uri: 'oxi://snapshot' });
    const snap = JSON.parse((snapshot.contents[0] as { text: string }).text);
    expect(snap.schema).toBe('oxi.snapshot.v1');
    expect(snap.tasks.map((t: { id: string }) => t.id)).toContain('T0-101');
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(['oxi://snapshot']);

    const ledger = query<{ actor: string; kind: string; task: string | null; payload: string }>(p.db, `SELECT actor, kind, task, payload FROM event WHERE actor='mcp' ORDER BY id`);
    expect(ledger.map((r) => [r.kind, r.task, JSON.parse(r.payload).tool, JSON.parse(r.payload).ok])).toEqual([
      ['mcp.tool', 'T1-104', 'add_roadmap_item', true],
      ['mcp.tool', null, 'add_roadmap_item', false],
      ['task.queued', 'T0-101', undefined, undefined],
      ['mcp.tool', 'T0-101', 'retry_task', true],
      ['mcp.tool', 'T0-101', 'retry_task', false],
      ['mcp.tool', 'T0-101', 'say', false],
    ]);
  });

  it('offers kill and unkill with --allow-control, through the killswitch the CLI sets', { timeout: 60_000 }, async () => {
    const { p, adapter } = await project();
    const client = await connect(p.configPath, ['--allow-control']);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['kill', 'unkill']));
    expect(json(await client.callTool({ name: 'kill', arguments: { reason: 'bad deploy' } }))).toMatchObject({ killed: true, reason: 'bad deploy', hard: false });
    expect(query(p.db, 'SELECT killed, reason, by FROM engine_state')).toEqual([{ killed: 1, reason: 'bad deploy', by: 'mcp' }]);
    expect(readFileSync(join(adapter.paths.stateDir, 'KILLSWITCH'), 'utf8')).toContain('bad deploy');
    expect(json(await client.callTool({ name: 'status', arguments: {} })).engine).toMatchObject({ killed: true, reason: 'bad deploy' });
    expect(json(await client.callTool({ name: 'unkill', arguments: {} }))).toMatchObject({ killed: false, was: true });
    expect(query(p.db, 'SELECT killed FROM engine_state')).toEqual([{ killed: 0 }]);
    expect(query<{ payload: string }>(p.db, `SELECT payload FROM event WHERE kind='mcp.tool' ORDER BY id`).map((r) => JSON.parse(r.payload).tool)).toEqual(['kill', 'unkill']);
  });
});
