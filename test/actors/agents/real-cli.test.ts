/**
 * The real CLIs (@anthropic-ai/claude-code 2.1.197, @openai/codex) driven by scripted model APIs of ours on
 * loopback: the scripted model makes the agent really edit a file with its own tools. These prove that
 * oxi's argv, environment and stream parsing match the real programs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent } from '../../../actors/effects/run-agent.js';
import { ship } from '../../../actors/effects/task-effects.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import { getTask } from '../../../src/store/tasks.js';
import { agentFixture, claudeTestEnv, GIT_IDENTITY, REAL_CLAUDE, REAL_CODEX, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { gitSync, makeRepo, type TestRepo } from '../../helpers/git-repo.js';
import { startAnthropicApi, type ScriptedModelServer } from '../../helpers/model-api/anthropic.js';
import { startResponsesApi, type ScriptedResponsesServer } from '../../helpers/model-api/openai.js';

let repo: TestRepo;
let fx: AgentFixture | undefined;
let api: ScriptedModelServer | ScriptedResponsesServer | undefined;
const cleanups: Array<() => void> = [];

afterEach(async () => {
  fx?.close();
  await api?.close();
  repo?.cleanup();
  for (const c of cleanups.splice(0)) c();
  fx = undefined;
  api = undefined;
});

/** The task's workspace as the engine makes it: a standalone repository on the task branch. */
async function worktree(): Promise<string> {
  const path = join(repo.scratch, 'wt');
  await ensureWorkspace({ mainClone: repo.dir, path, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  return path;
}

const workInput = (cwd: string) => ({
  taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1',
  plan: { files_touched: ['src/greeting.js'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0,
  title: 'Add a greeting', description: 'Create src/greeting.js exporting a greeting.',
});

describe('real claude CLI against a scripted Anthropic Messages API', () => {
  it('worker: really writes and commits with its tools; oxi records the session, the cost and the change on the branch', async () => {
    repo = makeRepo();
    const cwd = await worktree();
    const server = await startAnthropicApi((req) => {
      if (req.toolResults.length === 0) return { tool: { name: 'Write', input: { file_path: join(cwd, 'src/greeting.js'), content: "module.exports = 'hello';\n" } } };
      if (req.toolResults.length === 1) return { tool: { name: 'Bash', input: { command: 'git add src/greeting.js && git commit -m "Add a greeting"', description: 'commit' } } };
      return { text: 'Added src/greeting.js and committed it.' };
    });
    api = server;
    const home = join(repo.scratch, 'home');
    fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
      agents: {
        worker: { backend: 'claude', model: 'claude-sonnet-4-5' },
        claude: { command: [REAL_CLAUDE] },
        env: { allow: ['PATH', 'LANG'], set: claudeTestEnv(server.url, home) },
        timeouts: { wallMinutes: 2, stallMinutes: 1 },
      },
    });
    seedTask(fx.db, 'T1');
    const out = await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'ok', backend: 'claude' });
    expect(out.costUsd).toBeGreaterThan(0);
    // The commit is in the task's own repository; the engine brings it into the main clone when it ships.
    expect(gitSync(cwd, ['log', '-1', '--format=%s', 'oxi/t1']).trim()).toBe('Add a greeting');
    expect(gitSync(cwd, ['show', 'oxi/t1:src/greeting.js']).trim()).toBe("module.exports = 'hello';");
    // The session oxi asked for (--session-id) is the one claude reports and keeps a transcript of.
    const session = out.ledger?.find((l) => l.kind === 'agent.session')?.payload as { session: string; turns: number };
    expect(session.session).toMatch(/^[0-9a-f-]{36}$/);
    expect(session.turns).toBe(3);
    const stream = readFileSync(join(fx.adapter.paths.logs, 'T1', 'worker-a0-f0.ndjson'), 'utf8');
    expect(stream).toContain(`"session_id":"${session.session}"`);
    expect(getTask(fx.db, 'T1')).toMatchObject({ backend: 'claude/claude-sonnet-4-5' });
    expect(server.requests.every((r) => r.model === 'claude-sonnet-4-5')).toBe(true);
  });

  it('planner: the plan comes back as the result text; an API 429 is classed rate_limited', async () => {
    repo = makeRepo();
    let status = 0;
    const server = await startAnthropicApi(() =>
      status ? { status } : { text: '{"files_touched": ["src/greeting.js"], "tests": ["node --test"], "dependencies": [], "risk": "low"}' },
    );
    api = server;
    fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
      agents: {
        planner: { backend: 'claude', model: 'claude-sonnet-4-5' },
        claude: { command: [REAL_CLAUDE] },
        env: { allow: ['PATH'], set: claudeTestEnv(server.url, join(repo.scratch, 'home')) },
      },
    });
    seedTask(fx.db, 'T1');
    const request = { taskId: 'T1', attempt: 0, prompt: 'Plan: add a greeting', cwd: repo.dir, facts: {} };
    const ok = await fx.deps.agents.complete('planner', request);
    expect(ok).toMatchObject({ ok: true, backend: 'claude' });
    expect(JSON.parse(ok.text).files_touched).toEqual(['src/greeting.js']);
    status = 429;
    const limited = await fx.deps.agents.complete('planner', request);
    expect(limited).toMatchObject({ ok: false, kind: 'rate_limited' });
    expect(limited.error).toContain('429');
  });
});

describe('real codex CLI against a scripted OpenAI Responses API', () => {
  it('worker: really edits the file in its workspace-write sandbox; oxi prices the tokens and ships the change on the branch', async () => {
    repo = makeRepo();
    const cwd = await worktree();
    const server = await startResponsesApi((req) =>
      req.toolOutputs.length === 0 ? { exec: "mkdir -p src && printf \"module.exports = 'hi from codex';\\n\" > src/greeting.js && echo written" } : { text: 'Wrote src/greeting.js.' },
      // Reasoning tokens are reported apart from output tokens, as codex records them in its session file.
      { input: 1000, output: 50, reasoning: 300 },
    );
    api = server;
    // codex refuses to set up its helpers under /tmp: give it a home elsewhere.
    const codexHome = mkdtempSync('/var/tmp/oxi-codex-');
    cleanups.push(() => rmSync(codexHome, { recursive: true, force: true }));
    const rateCard = join(repo.scratch, 'rates.json');
    writeFileSync(rateCard, JSON.stringify({ 'gpt-5-codex': { input: 1.25, cachedInput: 0.125, output: 10 } }));
    fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
      agents: {
        worker: { backend: 'codex', model: 'gpt-5-codex' },
        codex: {
          command: [REAL_CODEX],
          rateCard,
          config: ['model_provider="oxi-test"', `model_providers.oxi-test={name="oxi-test",base_url="${server.url}",wire_api="responses",env_key="OXI_TEST_KEY",supports_websockets=false,request_max_retries=0,stream_max_retries=0}`],
        },
        env: { allow: ['PATH'], set: { HOME: join(repo.scratch, 'home'), CODEX_HOME: codexHome, OXI_TEST_KEY: 'sk-scripted', ...GIT_IDENTITY } },
        timeouts: { wallMinutes: 2, stallMinutes: 1 },
      },
    });
    seedTask(fx.db, 'T1');
    const out = await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'ok', backend: 'codex' });
    // 2 turns × (1000 in, 50 out, 300 reasoning) at $1.25 / $10 per million: the reasoning comes from codex's session file.
    expect(out.costUsd).toBeCloseTo((2000 * 1.25 + 100 * 10 + 600 * 10) / 1e6, 6);
    expect(out.ledger?.find((l) => l.kind === 'spend')?.payload).toMatchObject({ reasoningTokens: 600 });
    expect(out.ledger?.some((l) => l.kind === 'budget.undercount_risk')).toBe(false);
    const session = out.ledger?.find((l) => l.kind === 'agent.session')?.payload as { session: string };
    expect(session.session).toMatch(/^[0-9a-f-]{36}$/);
    expect(readFileSync(join(cwd, 'src/greeting.js'), 'utf8')).toBe("module.exports = 'hi from codex';\n");
    // codex's sandbox keeps .git read-only, so the change is committed by oxi's ship recovery (files of the plan only).
    const shipped = await ship(fx.deps, { taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1', baseSha: null, filesTouched: ['src/greeting.js'] });
    expect(shipped.empty).toBe(false);
    expect(gitSync(repo.dir, ['show', 'oxi/t1:src/greeting.js']).trim()).toBe("module.exports = 'hi from codex';");
    expect(getTask(fx.db, 'T1')).toMatchObject({ backend: 'codex/gpt-5-codex' });
  });

  it('worker outages on the real codex: a 429 is rate_limited and a 401 is auth (no attempt spent), and the relaunch of the same attempt starts a new session that succeeds', async () => {
    repo = makeRepo();
    const cwd = await worktree();
    let fault: { status: number; message: string } | undefined = { status: 429, message: 'Rate limit reached for requests' };
    const server = await startResponsesApi((req) =>
      fault ? fault : req.toolOutputs.length === 0 ? { exec: "mkdir -p src && printf \"module.exports = 'after the outage';\\n\" > src/greeting.js && echo written" } : { text: 'Wrote src/greeting.js.' },
    );
    api = server;
    const codexHome = mkdtempSync('/var/tmp/oxi-codex-');
    cleanups.push(() => rmSync(codexHome, { recursive: true, force: true }));
    fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
      agents: {
        worker: { backend: 'codex', model: 'gpt-5-codex' },
        codex: {
          command: [REAL_CODEX],
          config: ['model_provider="oxi-test"', `model_providers.oxi-test={name="oxi-test",base_url="${server.url}",wire_api="responses",env_key="OXI_TEST_KEY",supports_websockets=false,request_max_retries=0,stream_max_retries=0}`],
        },
        env: { allow: ['PATH'], set: { HOME: join(repo.scratch, 'home'), CODEX_HOME: codexHome, OXI_TEST_KEY: 'sk-scripted', ...GIT_IDENTITY } },
        timeouts: { wallMinutes: 2, stallMinutes: 1 },
      },
    });
    seedTask(fx.db, 'T1');
    const limited = await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    expect(limited, JSON.stringify(limited)).toMatchObject({ outcome: 'rate_limited', outage: 'rate_limited', backend: 'codex' });
    fault = { status: 401, message: 'invalid api key' };
    const refused = await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    expect(refused, JSON.stringify(refused)).toMatchObject({ outcome: 'auth', outage: 'auth' });
    fault = undefined;
    // Same attempt, same paths: the spent sessions are not adopted again; a new codex session does the work.
    const ok = await runAgent(fx.deps, workInput(cwd), new AbortController().signal);
    expect(ok, JSON.stringify(ok)).toMatchObject({ outcome: 'ok', backend: 'codex' });
    expect(readFileSync(join(cwd, 'src/greeting.js'), 'utf8')).toBe("module.exports = 'after the outage';\n");
  });
});
