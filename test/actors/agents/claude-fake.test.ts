/**
 * The claude backend against a fake `claude` executable of ours (test/fixtures/bin/fake-claude.mjs):
 * real subprocesses in real git repos, each scenario a way the real CLI behaves or fails.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claudeArgv } from '../../../actors/agents/claude.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import { runAgent } from '../../../actors/effects/run-agent.js';
import { critique, plan } from '../../../actors/effects/task-effects.js';
import { getTask } from '../../../src/store/tasks.js';
import { listEvents } from '../../../src/store/ledger.js';
import { agentFixture, FAKE_CLAUDE, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { gitSync, makeRepo, type TestRepo } from '../../helpers/git-repo.js';
import { waitFor } from '../../helpers/project.js';

let repo: TestRepo;
let fx: AgentFixture;

function setup(config: Record<string, unknown> = {}, model = 'claude-fake') {
  repo = makeRepo();
  const claude = { command: [process.execPath, FAKE_CLAUDE], ...((config.claude as object) ?? {}) };
  fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
    agents: {
      planner: { backend: 'claude', model },
      worker: { backend: 'claude', model },
      critic: { backend: 'claude', model },
      env: { set: { FAKE_CLAUDE_STATE: join(repo.scratch, 'fake-state'), FAKE_CLAUDE_PIDS: join(repo.scratch, 'pids') } },
      timeouts: { wallMinutes: 1, stallMinutes: 0.02 },
      // The fake reports to the test through files beside the repo: the sandbox lets it write there.
      sandbox: { writable: [repo.scratch] },
      // The fake needs no network; its 1.2 s stall budget leaves no room for the allowlist bridge's start on a
      // loaded machine (test/actors/sandbox/network.test.ts and test/actors/agents/real-cli-network.test.ts cover the allowlist).
      network: 'open',
      ...config,
      claude,
    },
  });
  seedTask(fx.db, 'T1');
  return fx;
}

afterEach(() => {
  fx?.close();
  repo?.cleanup();
});

const request = (prompt: string) => ({ taskId: 'T1', attempt: 0, prompt, cwd: repo.dir, facts: {} });

function worktree(): string {
  const path = join(repo.scratch, 'wt');
  gitSync(repo.dir, ['worktree', 'add', '-q', '-b', 'oxi/t1', path, 'main']);
  return path;
}

/** A worker's workspace as the engine makes it: a standalone repository on the task branch. */
async function workspace(): Promise<string> {
  const path = join(repo.scratch, 'ws');
  await ensureWorkspace({ mainClone: repo.dir, path, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  return path;
}

const workInput = (cwd: string, description: string) => ({
  taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1',
  plan: { files_touched: ['fake.txt'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 'Task T1', description,
});

/** Running, i.e. neither gone nor a zombie waiting for a reaper (a container's init may never reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

describe('claude argv', () => {
  it('always sets stream-json with --verbose, --max-turns, a budget and a fresh session id', () => {
    const argv = claudeArgv({
      prompt: 'do it', sessionId: '0d1b6e52-8ad2-439c-bf45-eac00f0da174', maxTurns: 7, maxBudgetUsd: 1.23456, model: 'claude-sonnet-4-5',
      permissionMode: 'acceptEdits', allowedTools: ['Read', 'Bash(git *)'], settings: { command: ['claude'], extraArgs: ['--add-dir', '/x'] },
    });
    expect(argv).toEqual([
      'claude', '-p', 'do it', '--output-format', 'stream-json', '--verbose', '--max-turns', '7', '--max-budget-usd', '1.2346',
      '--session-id', '0d1b6e52-8ad2-439c-bf45-eac00f0da174', '--permission-mode', 'acceptEdits', '--model', 'claude-sonnet-4-5',
      '--allowedTools', 'Read', 'Bash(git *)', '--add-dir', '/x',
    ]);
  });
});

describe('claude planner and critic (waited runs)', () => {
  it('happy planner: the plan text, cost, session id and the raw stream kept under the logs dir', async () => {
    setup();
    const out = await fx.deps.agents.complete('planner', request('SCENARIO=plan'));
    expect(out).toMatchObject({ ok: true, backend: 'claude', model: 'claude-fake', usage: { costUsd: 0.01 } });
    expect(out.text).toContain('"files_touched"');
    expect(out.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const logs = readdirSync(join(fx.adapter.paths.logs, 'T1'));
    expect(logs.some((f) => f.startsWith('planner-a1-claude') && f.endsWith('.ndjson'))).toBe(true);
  });

  it('rate limit exhausted is a rate_limited outage; rate-limited then ok moves to the fallback route and succeeds', async () => {
    setup({ planner: { backend: 'claude', model: 'scenario-rate-limited', fallbacks: [{ backend: 'claude', model: 'scenario-plan' }] } });
    const only = await fx.deps.agents.complete('critic', request('SCENARIO=rate-limited'));
    expect(only).toMatchObject({ ok: false, kind: 'rate_limited' });
    expect(only.error).toContain('429');
    const routed = await fx.deps.agents.complete('planner', request('plan it'));
    expect(routed).toMatchObject({ ok: true, model: 'scenario-plan' });
  });

  it('exit 143 without a result is an interruption (timed_out); a truncated last line is a failure, never parsed', async () => {
    setup();
    const killed = await fx.deps.agents.complete('critic', request('SCENARIO=exit-143'));
    expect(killed).toMatchObject({ ok: false, kind: 'timed_out' });
    expect(killed.error).toContain('code 143');
    const truncated = await fx.deps.agents.complete('critic', request('SCENARIO=truncated'));
    expect(truncated).toMatchObject({ ok: false, kind: 'failed' });
  });

  it('survives a >1 MB event and stderr/stdout garbage', async () => {
    setup();
    expect(await fx.deps.agents.complete('planner', request('SCENARIO=huge-event'))).toMatchObject({ ok: true, text: 'survived a 1.5 MB event' });
    expect(await fx.deps.agents.complete('planner', request('SCENARIO=stderr-garbage'))).toMatchObject({ ok: true, usage: { costUsd: 0.03 } });
  });

  // These read the fake's pids from outside: a PID namespace numbers them afresh, so they run unsandboxed
  // (the sandboxed counterpart, a process left behind gone with the sandbox, is in test/actors/sandbox/bubblewrap.test.ts).
  it('a hung agent is stopped by the stall timeout, with its whole process group', async () => {
    setup({ sandbox: { mode: 'none' } });
    const out = await fx.deps.agents.complete('planner', request('SCENARIO=hang'));
    expect(out).toMatchObject({ ok: false, kind: 'stalled' });
    expect(out.error).toContain('stall');
    const pids = readFileSync(join(repo.scratch, 'pids'), 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    await waitFor('the hung agent\'s whole group gone', () => pids.every((pid) => !alive(pid)), 10_000, 50);
  });

  it('an aborted planner (the task was killed or left planning) is terminated with its group, and none starts after the abort', async () => {
    setup({ timeouts: { wallMinutes: 1, stallMinutes: 1 }, sandbox: { mode: 'none' } }); // only the abort can end the hang in time; pids read from outside
    const controller = new AbortController();
    const run = fx.deps.agents.complete('planner', { ...request('SCENARIO=hang'), signal: controller.signal });
    const pidsFile = join(repo.scratch, 'pids');
    await waitFor('the planner and its child started', () => existsSync(pidsFile) && readFileSync(pidsFile, 'utf8').trim().split('\n').length >= 2, 20_000, 50);
    const pids = readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number);
    controller.abort(new DOMException('stopped', 'AbortError'));
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await waitFor('the aborted planner\'s whole group gone', () => pids.every((pid) => !alive(pid)), 10_000, 50);

    // The plan effect aborted while it still awaited git: it never asks for a planner.
    let asked = 0;
    const deps = { ...fx.deps, agents: { ...fx.deps.agents, complete: (...args: Parameters<typeof fx.deps.agents.complete>) => (asked++, fx.deps.agents.complete(...args)) } };
    const early = new AbortController();
    const planned = plan(deps, { taskId: 'T1', attempt: 0, title: 'Task T1', description: 'SCENARIO=happy' }, early.signal);
    early.abort(new DOMException('stopped', 'AbortError'));
    await expect(planned).rejects.toMatchObject({ name: 'AbortError' });
    expect(asked).toBe(0);
  });

  it('only retry notices are not progress: the stall clock keeps running', async () => {
    setup();
    const out = await fx.deps.agents.complete('planner', request('SCENARIO=retry-only'));
    expect(out.error).toContain('no progress within the stall timeout');
  });

  it('the environment is the whitelist: no forge token, no stray variables', async () => {
    process.env.GITHUB_TOKEN = 'ghp_must_not_leak';
    process.env.OXI_TEST_STRAY = 'stray';
    try {
      setup();
      const out = await fx.deps.agents.complete('planner', request('SCENARIO=env-echo'));
      const env = JSON.parse(out.text) as Record<string, string>;
      expect(env.GITHUB_TOKEN).toBeUndefined();
      expect(env.OXI_TEST_STRAY).toBeUndefined();
      expect(env.PATH).toBe(process.env.PATH);
      expect(env.FAKE_CLAUDE_STATE).toBe(join(repo.scratch, 'fake-state'));
      // Only allowed names, the adapter's own and what node itself adds to a child's env.
      const allowed = new Set([...fx.adapter.agents.env.allow, ...Object.keys(fx.adapter.agents.env.set)]);
      expect(Object.keys(env).filter((k) => !allowed.has(k))).toEqual([]);
    } finally {
      delete process.env.GITHUB_TOKEN;
      delete process.env.OXI_TEST_STRAY;
    }
  });
});

describe('claude critic verdicts (the critique effect)', () => {
  async function review(scenario: string) {
    const forge = {
      getPr: async () => ({ number: 1, task: 'T1', branch: 'oxi/t1', base: 'main', title: 't', headSha: gitSync(repo.dir, ['rev-parse', 'oxi/t1']).trim(), state: 'open', checks: 'success' }),
      comment: async () => undefined,
    };
    const path = worktree();
    gitSync(path, ['commit', '-q', '--allow-empty', '-m', 'x']);
    return critique({ ...fx.deps, forge: forge as never }, { taskId: 'T1', attempt: 0, pr: 1, plan: { files_touched: ['fake.txt'], tests: [], dependencies: [], risk: 'low' }, title: `SCENARIO=${scenario}`, baseSha: null, headSha: null });
  }

  it('approve is an approval; reject, garbage and empty output are rejections', async () => {
    for (const [scenario, verdict] of [['critic-approve', 'approve'], ['critic-reject', 'reject'], ['critic-garbage', 'reject'], ['critic-empty', 'reject']] as const) {
      setup({ critic: { backend: 'claude', model: `scenario-${scenario}` } });
      const out = await review(scenario);
      expect(out.verdict, scenario).toBe(verdict);
      fx.close();
      repo.cleanup();
    }
  });
});

describe('claude worker (detached, adopted, read back from its stream)', () => {
  it('happy: edits and commits on the branch; cost, session, backend and activity recorded', async () => {
    setup();
    const cwd = await workspace();
    const out = await runAgent(fx.deps, workInput(cwd, 'SCENARIO=happy'), new AbortController().signal);
    expect(out).toMatchObject({ outcome: 'ok', costUsd: 0.05, backend: 'claude' });
    expect(gitSync(cwd, ['log', '-1', '--format=%s']).trim()).toBe('fake claude change');
    expect(existsSync(join(cwd, 'fake.txt'))).toBe(true);
    expect(out.ledger?.find((l) => l.kind === 'agent.session')?.payload).toMatchObject({ backend: 'claude', turns: expect.any(Number) });
    const task = getTask(fx.db, 'T1')!;
    expect(task.backend).toBe('claude/claude-fake');
    expect(JSON.parse(task.activity!)).toEqual({ kind: 'finished' });
  });

  it('a hung worker is killed by the stall timeout (group and all), a stalled outage; a rate limit is an outage; a truncated stream is lost', async () => {
    setup({ sandbox: { mode: 'none' } }); // pids read from outside
    const cwd = await workspace();
    const hung = await runAgent(fx.deps, workInput(cwd, 'SCENARIO=hang'), new AbortController().signal);
    expect(hung).toMatchObject({ outcome: 'stalled', outage: 'stalled' });
    expect(hung.error).toContain('no output for');
    const hungPids = readFileSync(join(repo.scratch, 'pids'), 'utf8').trim().split('\n').map(Number);
    await waitFor('the hung worker\'s whole group gone', () => hungPids.every((pid) => !alive(pid)), 10_000, 50);

    const rateLimited = await runAgent(fx.deps, { ...workInput(cwd, 'SCENARIO=rate-limited'), attempt: 1 }, new AbortController().signal);
    expect(rateLimited.outcome).toBe('rate_limited');
    expect(rateLimited.ledger?.some((l) => l.kind === 'agent.outage')).toBe(true);

    const truncated = await runAgent(fx.deps, { ...workInput(cwd, 'SCENARIO=truncated'), attempt: 2 }, new AbortController().signal);
    expect(truncated.outcome).toBe('lost');
  });

  it('a worker outage moves the next launch to the fallback route', async () => {
    setup({ worker: { backend: 'claude', model: 'scenario-rate-limited', fallbacks: [{ backend: 'claude', model: 'scenario-happy' }] } });
    const cwd = await workspace();
    const first = await runAgent(fx.deps, workInput(cwd, 'do it'), new AbortController().signal);
    expect(first).toMatchObject({ outcome: 'rate_limited', fallback: true });
    // The engine writes the effect's ledger notes with the transition; do the same here.
    for (const note of first.ledger ?? []) fx.db.prepare(`INSERT INTO event (at, actor, kind, task, payload) VALUES (?, 'task:T1', ?, 'T1', ?)`).run(Date.now(), note.kind, JSON.stringify(note.payload ?? {}));
    // The same attempt (an outage spends none): the spent session is not adopted again, a new one is launched.
    const second = await runAgent(fx.deps, workInput(cwd, 'do it'), new AbortController().signal);
    expect(second).toMatchObject({ outcome: 'ok' });
    expect(getTask(fx.db, 'T1')!.backend).toBe('claude/scenario-happy');
    expect(listEvents(fx.db, { task: 'T1', kindPrefix: 'agent.outage' })).toHaveLength(1);
  });
});
