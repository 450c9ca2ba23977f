/**
 * Talking to a live worker (`oxi say`): the message is queued while the worker runs, and when its turn ends the
 * worker effect resumes the same session (`claude --resume`) with it — also when the engine was gone meanwhile.
 * Real parts: the fake claude as a detached subprocess in a real workspace, a real SQLite file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent, workerFiles } from '../../../actors/effects/run-agent.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import { SayRefusedError } from '../../../src/errors.js';
import { setKill } from '../../../src/runtime/killswitch.js';
import { sayToTask } from '../../../src/say/say.js';
import { listEvents } from '../../../src/store/ledger.js';
import { getListener, messagesOf } from '../../../src/store/messages.js';
import { agentFixture, FAKE_CLAUDE, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { makeRepo, type TestRepo } from '../../helpers/git-repo.js';
import { isAlive, waitFor } from '../../helpers/project.js';

let repo: TestRepo;
let fx: AgentFixture;
const pids: number[] = [];

afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fx?.close();
  repo?.cleanup();
});

function setup(stop: 'detach' | 'terminate' = 'terminate'): AgentFixture {
  repo = makeRepo();
  fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
    agents: {
      worker: { backend: 'claude', model: 'claude-fake' },
      claude: { command: [process.execPath, FAKE_CLAUDE] },
      env: { set: { FAKE_CLAUDE_STATE: join(repo.scratch, 'fake-state') } },
      timeouts: { wallMinutes: 2, stallMinutes: 1 },
      sandbox: { writable: [repo.scratch] },
    },
  });
  fx.deps.workerStopMode = () => stop;
  seedTask(fx.db, 'T1');
  return fx;
}

async function workspace(): Promise<string> {
  const path = join(repo.scratch, 'ws');
  await ensureWorkspace({ mainClone: repo.dir, path, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  return path;
}

const input = (cwd: string) => ({
  taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1',
  plan: { files_touched: ['fake.txt'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 'Task T1', description: 'SCENARIO=say',
});

const ctx = () => ({ db: fx.db, stateDir: fx.adapter.paths.stateDir, by: 'test' });
const go = () => (mkdirSync(join(repo.scratch, 'fake-state'), { recursive: true }), writeFileSync(join(repo.scratch, 'fake-state', 'go'), ''));

/** The live worker's pid, once the effect recorded it and opened its listener. */
async function liveWorker(): Promise<number> {
  const pid = await waitFor('a live worker that takes messages', () => getListener(fx.db, 'T1')?.pid, 180_000);
  pids.push(pid);
  return pid;
}

describe('oxi say to a claude worker', () => {
  it('reaches the running worker after its turn: its session is resumed with the message, in the ledger, the stream and the cost', async () => {
    setup();
    const cwd = await workspace();
    const running = runAgent(fx.deps, input(cwd), new AbortController().signal);
    await liveWorker();
    const said = sayToTask(ctx(), 'T1', 'Please also mention the README.');
    expect(said).toMatchObject({ task: 'T1', status: 'queued', backend: 'claude' });
    go();
    const out = await running;
    expect(out).toMatchObject({ outcome: 'ok', backend: 'claude' });
    expect(out.costUsd).toBeCloseTo(0.07, 6); // 0.05 for the first turn + 0.02 for the follow-up

    // The follow-up resumed the session the first turn started, and the agent got the message as its prompt.
    const sessions = join(repo.scratch, 'fake-state', 'sessions');
    const first = JSON.parse(readFileSync(workerFiles(fx.adapter.paths.logs, 'T1', 0, 0).state, 'utf8')) as { sessionId: string; resume: number };
    expect(first.resume).toBe(1);
    expect(readFileSync(join(sessions, first.sessionId), 'utf8')).toContain('Please also mention the README.');
    const followUp = readFileSync(workerFiles(fx.adapter.paths.logs, 'T1', 0, 0, undefined, 1).stream, 'utf8');
    expect(followUp).toContain('[say · test] Please also mention the README.');
    expect(followUp).toContain('heard: Message from the operator (test)');

    const kinds = listEvents(fx.db, { task: 'T1' }).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['say.queued', 'say.delivered']));
    expect(messagesOf(fx.db, 'T1')).toEqual([expect.objectContaining({ body: 'Please also mention the README.', session: first.sessionId, delivered_at: expect.any(Number) })]);
    // The session ended with nothing more to say: nobody listens any more.
    expect(getListener(fx.db, 'T1')).toBeUndefined();
    expect(() => sayToTask(ctx(), 'T1', 'too late')).toThrow(SayRefusedError);
  });

  it('a message queued while no engine runs is delivered when the restarted engine adopts the worker', async () => {
    setup('detach');
    const cwd = await workspace();
    const engine = new AbortController();
    const running = runAgent(fx.deps, input(cwd), engine.signal);
    const pid = await liveWorker();
    engine.abort(); // the engine goes away; the detached worker runs on
    expect(await running).toMatchObject({ outcome: 'failed', error: 'stopped' });
    expect(isAlive(pid)).toBe(true);

    sayToTask(ctx(), 'T1', 'Queued while the engine was down.');
    go();
    await waitFor('the worker to end its turn', () => !isAlive(pid), 120_000);
    expect(messagesOf(fx.db, 'T1')[0].delivered_at).toBeNull();

    const out = await runAgent(fx.deps, input(cwd), new AbortController().signal); // the restarted engine
    expect(out).toMatchObject({ outcome: 'ok' });
    expect(out.costUsd).toBeCloseTo(0.07, 6);
    expect(messagesOf(fx.db, 'T1')[0].delivered_at).not.toBeNull();
    const followUp = readFileSync(workerFiles(fx.adapter.paths.logs, 'T1', 0, 0, undefined, 1).stream, 'utf8');
    expect(followUp).toContain('[say · test] Queued while the engine was down.');
    expect(followUp).toContain('heard: Message from the operator (test)');
  });

  it('is refused with a clear error for a task with no live agent, and while the engine is killed', async () => {
    setup();
    expect(() => sayToTask(ctx(), 'T1', 'hello')).toThrow(/Task T1 has no live agent to tell \(status working, no worker session running\)/);
    expect(() => sayToTask(ctx(), 'T9', 'hello')).toThrow(/No task "T9"/);
    expect(() => sayToTask(ctx(), 'T1', '   ')).toThrow(/non-empty message/);
    const cwd = await workspace();
    const running = runAgent(fx.deps, input(cwd), new AbortController().signal);
    await liveWorker();
    setKill(fx.db, fx.adapter.paths.stateDir, { reason: 'maintenance', by: 'test', hard: false, at: Date.now() });
    expect(() => sayToTask(ctx(), 'T1', 'hello')).toThrow(/the engine is killed \(maintenance\)/);
    expect(messagesOf(fx.db, 'T1')).toEqual([]);
    go();
    expect(await running).toMatchObject({ outcome: 'ok', costUsd: 0.05 });
    expect(existsSync(workerFiles(fx.adapter.paths.logs, 'T1', 0, 0, undefined, 1).stream)).toBe(false);
  });
});
