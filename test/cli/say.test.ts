/**
 * `oxi say` and `oxi attach` as an operator uses them: real CLI processes against a real project, a live worker
 * (the fake claude, detached), the transcript followed live while messages are typed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureWorkspace } from '../../actors/hosts/workspace.js';
import { runAgent } from '../../actors/effects/run-agent.js';
import { getListener } from '../../src/store/messages.js';
import { agentFixture, FAKE_CLAUDE, seedTask, type AgentFixture } from '../helpers/agent-deps.js';
import { makeRepo, type TestRepo } from '../helpers/git-repo.js';
import { oxi, waitFor } from '../helpers/project.js';
import { spawn } from 'node:child_process';
import { OXI } from '../helpers/project.js';

let repo: TestRepo;
let fx: AgentFixture | undefined;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  fx?.close();
  repo?.cleanup();
});

function project() {
  repo = makeRepo();
  const state = join(repo.scratch, 'state');
  mkdirSync(state, { recursive: true });
  const config = {
    name: 'agents-test',
    repo: { path: repo.dir },
    paths: { stateDir: state },
    agents: {
      planner: { backend: 'claude' }, worker: { backend: 'claude' }, critic: { backend: 'claude' },
      claude: { command: [process.execPath, FAKE_CLAUDE] },
      env: { set: { FAKE_CLAUDE_STATE: join(repo.scratch, 'fake-state') } },
      sandbox: { writable: [repo.scratch] },
    },
  };
  const configPath = join(state, 'oxi.config.json');
  writeFileSync(configPath, JSON.stringify(config));
  fx = agentFixture(repo.dir, state, config);
  seedTask(fx.db, 'T1');
  return configPath;
}

async function startWorker() {
  const cwd = join(repo.scratch, 'wt');
  await ensureWorkspace({ mainClone: repo.dir, path: cwd, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  const input = { taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1', plan: { files_touched: ['fake.txt'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 'T1', description: 'SCENARIO=say' };
  const running = runAgent(fx!.deps, input, new AbortController().signal);
  const pid = await waitFor('the live worker', () => getListener(fx!.db, 'T1')?.pid, 180_000);
  cleanups.push(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  // Wrapped: an async function returning the promise itself would wait for the worker to finish.
  return { running };
}

const go = () => (mkdirSync(join(repo.scratch, 'fake-state'), { recursive: true }), writeFileSync(join(repo.scratch, 'fake-state', 'go'), ''));

describe('oxi say / oxi attach', () => {
  // Minutes, not seconds: each step is a whole CLI process, and a loaded 2-core machine starts one slowly.
  it('say queues for the live worker; attach shows the transcript live and sends what is typed', { timeout: 900_000 }, async () => {
    const config = project();
    const { running } = await startWorker();
    const said = oxi(['--config', config, 'say', 'T1', 'first note', '--json']);
    expect(said.code, said.stderr).toBe(0);
    expect(JSON.parse(said.stdout)).toMatchObject({ task: 'T1', status: 'queued', backend: 'claude' });

    const attach = spawn(process.execPath, [OXI, '--config', config, 'attach', 'T1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    cleanups.push(() => attach.kill('SIGKILL'));
    let out = '';
    attach.stdout.on('data', (d) => (out += d));
    attach.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => attach.on('exit', (code) => r(code)));
    await waitFor('the transcript', () => out.includes('I will add fake.txt, slowly.'), 120_000);
    attach.stdin.write('second note\n');
    await waitFor('the typed line queued', () => out.includes('» queued'), 120_000);
    go();
    expect(await running).toMatchObject({ outcome: 'ok' });
    // Both messages went to the one follow-up session, and the transcript shows them and the agent's answer.
    await waitFor('the follow-up in the transcript', () => out.includes('heard: Message from the operator'), 120_000);
    expect(out).toMatch(/👤 \[say · cli:[^\]]+\] first note/);
    expect(out).toMatch(/👤 \[say · cli:[^\]]+\] second note/);
    attach.stdin.write('third note\n');
    await waitFor('the refusal', () => out.includes('» not sent: Task T1 has no live agent'), 120_000);
    attach.stdin.end();
    expect(await exited).toBe(0);
  });

  it('refuses with exit 2 and a clear error: no live agent, unknown task, killed engine', { timeout: 900_000 }, async () => {
    const config = project();
    const none = oxi(['--config', config, 'say', 'T1', 'hello']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Task T1 has no live agent to tell');
    expect(none.stderr).toContain('fix:');
    const unknown = oxi(['--config', config, 'say', 'T7', 'hello']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No task "T7"');
    const { running } = await startWorker();
    expect(oxi(['--config', config, 'kill', '--reason', 'lunch']).code).toBe(0);
    const killed = oxi(['--config', config, 'say', 'T1', 'hello']);
    expect(killed.code).toBe(2);
    expect(killed.stderr).toContain('the engine is killed (lunch)');
    expect(killed.stderr).toContain('oxi unkill');
    go();
    expect(await running).toMatchObject({ outcome: 'ok' });
  });
});
