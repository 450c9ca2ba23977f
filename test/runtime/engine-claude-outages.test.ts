/**
 * Outages cost nothing, on the real Claude Code CLI: the whole engine (`oxi demo`) runs planner → worker →
 * critic as real `claude -p` runs against a scripted Messages API on loopback that fails on purpose
 * (a 500, a 429 window, a 529, a 401 window, a hung connection). Every item must merge, no attempt may be
 * spent, no worker may see an empty plan, and a persistent failure closes the backend's gate once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claudeTestEnv, REAL_CLAUDE } from '../helpers/agent-deps.js';
import { gitSync } from '../helpers/git-repo.js';
import { startAnthropicApi, type AnthropicRequest, type ModelReply, type ScriptedModelServer } from '../helpers/model-api/anthropic.js';
import { oxi, query, sampleProject, spawnOxi } from '../helpers/project.js';

let api: ScriptedModelServer | undefined;
let cleanup: (() => void) | undefined;

afterEach(async () => {
  await api?.close();
  cleanup?.();
});

type Role = 'planner' | 'worker' | 'critic';
const roleOf = (req: AnthropicRequest): Role =>
  req.userText.includes('You are planning one roadmap item') ? 'planner' : req.userText.includes('Review this change against its plan') ? 'critic' : 'worker';
const taskOf = (req: AnthropicRequest) => /Item (T\d+-\d+)|roadmap item (T\d+-\d+)/.exec(req.userText)?.slice(1).find(Boolean) ?? /T\d+-\d+/.exec(req.userText)?.[0] ?? 'unknown';

interface Seen {
  role: Role;
  task: string;
  model: string;
  /** The worker's first request of a session (no tool result yet). */
  first: boolean;
  text: string;
}

/**
 * A well-behaved scripted model (plans one file per task, the worker writes and commits it, the critic
 * approves what it sees), with `fault` consulted first: return a reply to fail that request on purpose.
 */
function model(dir: () => string, seen: Seen[], fault: (s: Seen) => ModelReply | undefined) {
  return (req: AnthropicRequest): ModelReply => {
    const s: Seen = { role: roleOf(req), task: taskOf(req), model: req.model, first: req.toolResults.length === 0, text: req.userText };
    seen.push(s);
    const injected = fault(s);
    if (injected) return injected;
    const file = `src/${s.task.toLowerCase()}.js`;
    if (s.role === 'planner') return { text: JSON.stringify({ files_touched: [file], tests: [], dependencies: [], risk: 'low', summary: `add ${file}` }) };
    if (s.role === 'critic') return { text: JSON.stringify(req.userText.includes(`+export const id = '${s.task}'`) ? { verdict: 'approve', reasons: ['as planned'] } : { verdict: 'reject', reasons: ['the diff is not the planned change'] }) };
    const worktree = join(dir(), '.oxi', 'worktrees', 'demo-default', s.task);
    switch (req.toolResults.length) {
      case 0:
        return { tool: { name: 'Write', input: { file_path: join(worktree, file), content: `export const id = '${s.task}';\n` } } };
      case 1:
        return { tool: { name: 'Bash', input: { command: `git add ${file} && git commit -m "${s.task}: add ${file}"`, description: 'commit' } } };
      default:
        return { text: `Added ${file} and committed.` };
    }
  };
}

/** A sample project whose every role runs the real claude against the scripted API; notifications on stderr. */
function project(server: ScriptedModelServer, tasks: number, worker?: Record<string, unknown>, stallMinutes = 2) {
  const route = { backend: 'claude', model: 'claude-sonnet-4-5' };
  const p = sampleProject({
    tasks,
    config: (c) => {
      c.agents = {
        ...c.agents,
        planner: route,
        worker: worker ?? route,
        critic: route,
        claude: { command: [REAL_CLAUDE] },
        env: { allow: ['PATH', 'LANG'], set: claudeTestEnv(server.url, 'set-below') },
        timeouts: { wallMinutes: 3, stallMinutes },
      };
      c.notifications = [{ kind: 'stderr' }];
      c.engine = { ...c.engine, dashboard: { port: 0 } };
    },
  });
  cleanup = p.cleanup;
  const config = JSON.parse(gitSync(p.dir, ['show', 'HEAD:oxi.config.json']));
  config.agents.env.set.HOME = join(p.dir, '.oxi', 'agent-home');
  mkdirSync(config.agents.env.set.HOME, { recursive: true });
  writeFileSync(p.configPath, JSON.stringify(config, null, 2));
  return p;
}

async function runDemo(p: ReturnType<typeof project>) {
  // Async: the scripted model answers from this process, so the CLI must not block it.
  const child = spawnOxi(['demo', '--dir', p.dir, '--json']);
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const code = await child.exited;
  const tasks = JSON.parse(oxi(['--config', p.configPath, 'tasks', '--json']).stdout) as Array<{ id: string; status: string; attempts: number; backend: string }>;
  expect(code, `${stdout}\n${JSON.stringify(tasks)}\n${child.output().slice(-3000)}`).toBe(0);
  return { summary: JSON.parse(stdout), tasks, output: child.output() };
}

const rows = (db: string, kind: string) => query<{ payload: string }>(db, `SELECT payload FROM event WHERE kind = '${kind}'`).map((r) => JSON.parse(r.payload));

describe('outages on the real claude CLI cost no task and no attempt', () => {
  it('planner 500 once: plans again; merged, and no worker ever saw an empty plan', async () => {
    const seen: Seen[] = [];
    let failed = false;
    let dir = '';
    api = await startAnthropicApi(model(() => dir, seen, (s) => (s.role === 'planner' && !failed ? ((failed = true), { status: 500, message: 'scripted internal error' }) : undefined)));
    const p = project(api, 1);
    dir = p.dir;
    const { summary, tasks } = await runDemo(p);
    expect(summary).toMatchObject({ merged: 1, abandoned: 0 });
    expect(tasks[0]).toMatchObject({ status: 'merged', attempts: 1 });
    expect(seen.filter((s) => s.role === 'planner')).toHaveLength(2);
    const workers = seen.filter((s) => s.role === 'worker' && s.first);
    expect(workers.length).toBeGreaterThan(0);
    for (const w of workers) {
      expect(w.text).not.toMatch(/Plan: *\n/);
      expect(w.text).toContain('"files_touched"');
    }
    expect(rows(p.db, 'agent.outage')).toEqual([expect.objectContaining({ role: 'planner', outage: 'overloaded' })]);
  });

  // Each real claude run takes seconds to start on a busy machine: these runs get more than the default time.
  it('worker 429 for a window: waits (the gate closes and reopens once), all merged, one attempt each', { timeout: 480_000 }, async () => {
    const seen: Seen[] = [];
    let windowEnd = 0;
    let dir = '';
    api = await startAnthropicApi(
      model(() => dir, seen, (s) => {
        if (s.role !== 'worker' || !s.first) return undefined;
        if (windowEnd === 0) windowEnd = Date.now() + 30_000;
        return Date.now() < windowEnd ? { status: 429, message: 'scripted rate limit' } : undefined;
      }),
    );
    const p = project(api, 1);
    dir = p.dir;
    const { summary, tasks, output } = await runDemo(p);
    expect(summary).toMatchObject({ merged: 1, abandoned: 0 });
    for (const t of tasks) expect(t).toMatchObject({ status: 'merged', attempts: 1 });
    expect(seen.filter((s) => s.role === 'worker' && s.first).length).toBeGreaterThan(1); // it really met the limit
    expect(rows(p.db, 'agent.outage').every((r) => r.outage === 'rate_limited')).toBe(true);
    // However many sessions met it, the gate closed at most once and is open again.
    expect(rows(p.db, 'agent.gate_closed').length).toBeLessThanOrEqual(1);
    expect(rows(p.db, 'agent.gate_opened').length).toBe(rows(p.db, 'agent.gate_closed').length);
    expect(output.match(/agent\.gate_closed/g)?.length ?? 0).toBe(rows(p.db, 'agent.gate_closed').length);
  });

  it('critic 529 once: reviews again on the same head; merged with no extra worker run and no rejection', async () => {
    const seen: Seen[] = [];
    let failed = false;
    let dir = '';
    api = await startAnthropicApi(model(() => dir, seen, (s) => (s.role === 'critic' && !failed ? ((failed = true), { status: 529, message: 'Overloaded' }) : undefined)));
    const p = project(api, 1);
    dir = p.dir;
    const { summary, tasks } = await runDemo(p);
    expect(summary).toMatchObject({ merged: 1, abandoned: 0 });
    expect(tasks[0]).toMatchObject({ status: 'merged', attempts: 1 });
    expect(seen.filter((s) => s.role === 'worker' && s.first)).toHaveLength(1);
    expect(seen.filter((s) => s.role === 'critic')).toHaveLength(2);
    expect(rows(p.db, 'critic.reject')).toEqual([]);
    expect(rows(p.db, 'agent.outage')).toEqual([expect.objectContaining({ role: 'critic', outage: 'overloaded' })]);
  });

  it('401 for a window: the claude gate closes once (one row, one notification), nothing is abandoned, all merge after the key returns', { timeout: 480_000 }, async () => {
    const seen: Seen[] = [];
    let keyBackAt = Number.POSITIVE_INFINITY;
    let dir = '';
    api = await startAnthropicApi(
      model(() => dir, seen, () => {
        if (keyBackAt === Number.POSITIVE_INFINITY) keyBackAt = Date.now() + 5000;
        return Date.now() < keyBackAt ? { status: 401, message: 'invalid x-api-key' } : undefined;
      }),
    );
    const p = project(api, 2);
    dir = p.dir;
    const { summary, tasks, output } = await runDemo(p);
    expect(summary).toMatchObject({ merged: 2, abandoned: 0 });
    for (const t of tasks) expect(t).toMatchObject({ status: 'merged', attempts: 1 });
    expect(rows(p.db, 'agent.gate_closed')).toEqual([expect.objectContaining({ backend: 'claude', outage: 'auth' })]);
    expect(rows(p.db, 'agent.gate_opened')).toEqual([expect.objectContaining({ backend: 'claude' })]);
    expect(output.match(/agent\.gate_closed: /g)).toHaveLength(1);
    // While closed, the gate let one probe through at a time: far fewer requests than a retry storm.
    expect(seen.filter((s) => s.role === 'planner').length).toBeLessThan(12);
    const status = JSON.parse(oxi(['--config', p.configPath, 'status', '--json']).stdout);
    expect(status.agents.gates).toEqual([expect.objectContaining({ backend: 'claude', closed: false })]);
  });

  it('a stalled worker (the API hangs) is killed and relaunched on the fallback route, spending no attempt', { timeout: 480_000 }, async () => {
    const seen: Seen[] = [];
    let dir = '';
    api = await startAnthropicApi(model(() => dir, seen, (s) => (s.role === 'worker' && s.model === 'claude-hang' ? { hang: true } : undefined)));
    // 45 s of silence is a stall here (the hung API); an honest claude answers long before, even on a loaded machine.
    const p = project(api, 1, { backend: 'claude', model: 'claude-hang', fallbacks: [{ backend: 'claude', model: 'claude-sonnet-4-5' }] }, 0.75);
    dir = p.dir;
    const { summary, tasks } = await runDemo(p);
    expect(summary).toMatchObject({ merged: 1, abandoned: 0 });
    expect(tasks[0]).toMatchObject({ status: 'merged', attempts: 1, backend: 'claude/claude-sonnet-4-5' });
    expect(rows(p.db, 'agent.outage')).toEqual([expect.objectContaining({ role: 'worker', outage: 'stalled', model: 'claude-hang' })]);
  });
});
