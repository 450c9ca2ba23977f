/**
 * The `acp` backend against an ACP agent of ours written with the SDK's agent side (test/fixtures/bin/acp-agent.mjs):
 * real stdio, real subprocesses, in the sandbox, in real git workspaces. Planner and critic answer through it; the
 * worker is detached, its permission requests are answered from the claude worker's allow list, scope-aware.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acpArgv } from '../../../actors/agents/acp/backend.js';
import { decide, type ToolPolicy } from '../../../actors/agents/acp/policy.js';
import { probeAcpAgent } from '../../../actors/agents/acp/probe.js';
import { runAgent, workerFiles } from '../../../actors/effects/run-agent.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import { renderEvent } from '../../../src/agents/render.js';
import { parseAgentStream } from '../../../src/agents/stream.js';
import { sayToTask } from '../../../src/say/say.js';
import { getListener, messagesOf } from '../../../src/store/messages.js';
import { agentFixture, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { gitSync, makeRepo, type TestRepo } from '../../helpers/git-repo.js';
import { waitFor } from '../../helpers/project.js';

const ACP_AGENT = resolve(import.meta.dirname, '..', '..', 'fixtures', 'bin', 'acp-agent.mjs');

let repo: TestRepo;
let fx: AgentFixture;
const groups: number[] = [];

afterEach(() => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  fx?.close();
  repo?.cleanup();
});

function setup(acp: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  repo = makeRepo();
  fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
    agents: {
      planner: { backend: 'acp', model: 'test-model' },
      worker: { backend: 'acp', model: 'test-model' },
      critic: { backend: 'acp', model: 'test-model' },
      acp: { command: [process.execPath, ACP_AGENT], ...acp },
      env: { set: { FAKE_ACP_STATE: join(repo.scratch, 'acp-state'), ...env } },
      timeouts: { wallMinutes: 2, stallMinutes: 1 },
      // The agent keeps its sessions beside the repo (so a later process can load them): the sandbox lets it write there.
      sandbox: { writable: [repo.scratch] },
    },
  });
  seedTask(fx.db, 'T1');
}

async function workspace(): Promise<string> {
  const path = join(repo.scratch, 'ws');
  await ensureWorkspace({ mainClone: repo.dir, path, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  return path;
}

const input = (cwd: string, description: string) => ({
  taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1',
  plan: { files_touched: ['acp.txt'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 'Task T1', description,
});
const stream = (resume = 0) => readFileSync(workerFiles(fx.adapter.paths.logs, 'T1', 0, 0, undefined, resume).stream, 'utf8');

describe('the acp backend', () => {
  it('runs a worker session: the agent edits and commits in its workspace, its updates become the stream, its cost is the one it reports', async () => {
    setup();
    const cwd = await workspace();
    const out = await runAgent(fx.deps, input(cwd, 'SCENARIO=happy'), new AbortController().signal);
    expect(out).toMatchObject({ outcome: 'ok', backend: 'acp', costUsd: 0.03 });
    expect(gitSync(cwd, ['log', '-1', '--format=%s']).trim()).toBe('acp change');
    const text = stream();
    const lines = parseAgentStream(text, 'acp');
    expect(lines.terminal).toMatchObject({ ok: true, text: 'Added acp.txt and committed it.', costUsd: 0.03 });
    const shown = text.split('\n').filter(Boolean).map((l) => renderEvent(JSON.parse(l))).filter(Boolean).join('\n');
    expect(shown).toContain('▶ session');
    expect(shown).toContain('🔧 Write acp.txt');
    expect(shown).toContain('💬 I will add acp.txt.');
    expect(shown).toContain('✔ done · $0.0300');
  });

  it('answers permission requests from the allow list, scope-aware: writes outside the workspace or under a blocked prefix, and commands off the list, are refused at the tool call', async () => {
    setup();
    const cwd = await workspace();
    const out = await runAgent(fx.deps, input(cwd, 'SCENARIO=outside'), new AbortController().signal);
    expect(out).toMatchObject({ outcome: 'ok' });
    expect(existsSync(join(cwd, '..', 'outside.txt'))).toBe(false);
    expect(existsSync(join(cwd, '.env'))).toBe(false);
    const t = parseAgentStream(stream(), 'acp').terminal!;
    expect(t.text).toBe('Both writes were refused.');
    expect(t.permissionDenials).toBe(2);
    expect(stream()).toContain("blocked by oxi's tool policy");

    const denied = await runAgent(fx.deps, { ...input(cwd, 'SCENARIO=denied-command'), attempt: 1 }, new AbortController().signal);
    expect(denied).toMatchObject({ outcome: 'ok' });
    expect(readFileSync(workerFiles(fx.adapter.paths.logs, 'T1', 1, 0).stream, 'utf8')).toContain('`curl http://example.invalid` matches no Bash rule');
  });

  it('answers as planner and critic (read-only), and a refusal fails the run', async () => {
    setup();
    const plan = await fx.deps.agents.complete('planner', { taskId: 'T1', attempt: 0, prompt: 'plan it SCENARIO=plan', cwd: repo.dir, facts: {} });
    expect(plan).toMatchObject({ ok: true, backend: 'acp', usage: { costUsd: 0.01 } });
    expect(plan.text).toContain('"files_touched": ["acp.txt"]');
    const critic = await fx.deps.agents.complete('critic', { taskId: 'T1', attempt: 0, prompt: 'review SCENARIO=critic-approve', cwd: repo.dir, facts: {} });
    expect(JSON.parse(critic.text)).toEqual({ verdict: 'approve', reasons: ['acp.txt as planned'] });
    const refused = await fx.deps.agents.complete('planner', { taskId: 'T1', attempt: 1, prompt: 'SCENARIO=refusal', cwd: repo.dir, facts: {} });
    expect(refused).toMatchObject({ ok: false, kind: 'failed' });
    expect(refused.error).toContain('the agent stopped with refusal');
    const crashed = await fx.deps.agents.complete('planner', { taskId: 'T1', attempt: 2, prompt: 'SCENARIO=crash', cwd: repo.dir, facts: {} });
    expect(crashed.ok).toBe(false);
    expect(crashed.error).toContain('the ACP agent exited (code 3) before the turn ended');
  });

  it('prices tokens with the rate card when the agent reports no cost', async () => {
    const cards = mkdtempSync(join(tmpdir(), 'oxi-rates-'));
    const card = join(cards, 'rates.json');
    writeFileSync(card, JSON.stringify({ 'test-model': { input: 1, output: 10 } }));
    try {
      setup({ rateCard: card });
      const cwd = await workspace();
      const out = await runAgent(fx.deps, input(cwd, 'SCENARIO=no-cost'), new AbortController().signal);
      // 1M input tokens at $1/M + 100k output tokens at $10/M (the agent reports tokens in its prompt response).
      expect(out).toMatchObject({ outcome: 'ok' });
      expect(out.costUsd).toBeCloseTo(2, 6);
    } finally {
      rmSync(cards, { recursive: true, force: true });
    }
  });

  it('oxi say: the message waits for the turn, then the same session is loaded and prompted with it', async () => {
    setup();
    const cwd = await workspace();
    const running = runAgent(fx.deps, input(cwd, 'SCENARIO=say'), new AbortController().signal);
    groups.push(await waitFor('the live worker', () => getListener(fx.db, 'T1')?.pid, 180_000));
    sayToTask({ db: fx.db, stateDir: fx.adapter.paths.stateDir, by: 'test' }, 'T1', 'Also add a line to the README.');
    mkdirSync(join(repo.scratch, 'acp-state'), { recursive: true });
    writeFileSync(join(repo.scratch, 'acp-state', 'go'), '');
    const out = await running;
    // 0.03 for the first turn, then 0.02 for the follow-up (the loaded session's cumulative 0.05 minus the replayed 0.03).
    expect(out).toMatchObject({ outcome: 'ok', backend: 'acp' });
    expect(out.costUsd).toBeCloseTo(0.05, 6);
    const first = parseAgentStream(stream(), 'acp').terminal!.sessionId!;
    const followUp = parseAgentStream(stream(1), 'acp').terminal!;
    expect(followUp).toMatchObject({ ok: true, sessionId: first });
    expect(followUp.text).toContain('heard: Message from the operator (test):\nAlso add a line to the README.');
    expect(stream(1)).not.toContain('(replayed)');
    expect(messagesOf(fx.db, 'T1')[0]).toMatchObject({ session: first, delivered_at: expect.any(Number) });
  });

  it('is cancelled on SIGTERM (kill, stall, timeout): session/cancel reaches the agent', async () => {
    repo = makeRepo();
    const state = join(repo.scratch, 'acp-state');
    const spec = { command: [process.execPath, ACP_AGENT], cwd: repo.dir, prompt: 'SCENARIO=hang', policy: { allowedTools: [], cwd: repo.dir, writable: false, blocked: [] } satisfies ToolPolicy };
    const [node, ...args] = acpArgv(spec);
    const runner = spawn(node!, args, { env: { ...process.env, FAKE_ACP_STATE: state }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    groups.push(runner.pid!);
    let out = '';
    runner.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => runner.on('exit', (code) => r(code)));
    await waitFor('the hanging turn', () => existsSync(join(state, 'hang.pid')), 60_000);
    runner.kill('SIGTERM'); // the runner only: it must pass the cancel on
    await waitFor('the agent to see session/cancel', () => existsSync(join(state, 'cancelled')), 60_000);
    expect(await exited).not.toBe(0);
    expect(out).toContain('"stop_reason":"cancelled"');
  });

  it('oxi doctor handshake: names the agent and whether it can resume sessions', async () => {
    const probe = await probeAcpAgent([process.execPath, ACP_AGENT], { PATH: process.env.PATH ?? '' }, process.cwd());
    expect(probe).toMatchObject({ ok: true, agent: 'oxi-test-agent 1.0.0', protocolVersion: 1, loadSession: true });
    const bad = await probeAcpAgent([process.execPath, '-e', 'process.exit(4)'], { PATH: process.env.PATH ?? '' }, process.cwd());
    expect(bad).toMatchObject({ ok: false });
    expect(bad.error).toContain('exited (code 4) before answering initialize');
  });
});

describe('acp tool policy', () => {
  const policy: ToolPolicy = { allowedTools: ['Read', 'Edit', 'Bash(git *)', 'Bash(npm test)'], cwd: '/w', writable: true, blocked: ['.env', 'secrets/'] };
  it('maps tool kinds to the claude rules, checks every command of a shell line, and keeps edits in scope', () => {
    expect(decide(policy, { kind: 'read', title: 'Read a.js' })).toEqual({ allow: true, rule: 'Read' });
    expect(decide(policy, { kind: 'search', title: 'grep' })).toMatchObject({ allow: false });
    expect(decide(policy, { kind: 'edit', locations: [{ path: '/w/src/a.js' }] })).toEqual({ allow: true, rule: 'Edit' });
    expect(decide(policy, { kind: 'edit', locations: [{ path: '/etc/passwd' }] })).toMatchObject({ allow: false, reason: expect.stringContaining('outside the workspace') });
    expect(decide(policy, { kind: 'edit', locations: [{ path: '/w/secrets/k' }] })).toMatchObject({ allow: false, reason: expect.stringContaining('blocked prefix "secrets/"') });
    expect(decide({ ...policy, planFiles: ['src/a.js'] }, { kind: 'edit', locations: [{ path: '/w/src/b.js' }] })).toMatchObject({ allow: false, reason: expect.stringContaining("not one of the plan's files") });
    expect(decide(policy, { kind: 'execute', rawInput: { command: 'git add a.js && git commit -m x' } })).toEqual({ allow: true, rule: 'Bash(git *)' });
    expect(decide(policy, { kind: 'execute', rawInput: { command: ['npm', 'test'] } })).toEqual({ allow: true, rule: 'Bash(npm test)' });
    expect(decide(policy, { kind: 'execute', rawInput: { command: 'npm test; rm -rf /' } })).toMatchObject({ allow: false, reason: expect.stringContaining('`rm -rf /`') });
    expect(decide(policy, { kind: 'execute', rawInput: { command: 'git log $(curl x)' } })).toMatchObject({ allow: false });
    expect(decide({ ...policy, writable: false }, { kind: 'execute', rawInput: { command: 'git status' } })).toMatchObject({ allow: false });
    expect(decide(policy, { kind: 'other', title: 'mystery' })).toMatchObject({ allow: false });
  });
});
