/**
 * `oxi tail`: the task's agent stream in human form, raw with --json, and followed live until the task ends.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureWorkspace } from '../../actors/hosts/workspace.js';
import { runAgent } from '../../actors/effects/run-agent.js';
import { sweepLogs } from '../../actors/effects/log-janitor.js';
import { agentFixture, FAKE_CLAUDE, seedTask, type AgentFixture } from '../helpers/agent-deps.js';
import { makeRepo, type TestRepo } from '../helpers/git-repo.js';
import { oxi, spawnOxi, waitFor } from '../helpers/project.js';

let repo: TestRepo;
let fx: AgentFixture | undefined;
afterEach(() => {
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
    agents: { planner: { backend: 'claude' }, worker: { backend: 'claude' }, critic: { backend: 'claude' }, claude: { command: [process.execPath, FAKE_CLAUDE] } },
  };
  const configPath = join(state, 'oxi.config.json');
  writeFileSync(configPath, JSON.stringify(config));
  fx = agentFixture(repo.dir, state, config);
  seedTask(fx.db, 'T1');
  return configPath;
}

async function work() {
  const cwd = join(repo.scratch, 'wt');
  await ensureWorkspace({ mainClone: repo.dir, path: cwd, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
  const input = { taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1', plan: { files_touched: ['fake.txt'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 'T1', description: 'SCENARIO=happy' };
  expect((await runAgent(fx!.deps, input, new AbortController().signal)).outcome).toBe('ok');
}

describe('oxi tail', () => {
  it('prints the worker stream in human form, or raw NDJSON with --json', async () => {
    const configPath = project();
    await work();
    const human = oxi(['--config', configPath, 'tail', 'T1', '--no-follow']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/▶ session [0-9a-f-]{36} · model claude-fake/);
    expect(human.stdout).toContain('🔧 Write');
    expect(human.stdout).toContain('✔ done · $0.0500');
    const raw = oxi(['--config', configPath, 'tail', 'T1', '--no-follow', '--json']);
    const lines = raw.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines[0].type).toBe('system');
    expect(lines.at(-1)!.type).toBe('result');
  });

  it('follows new events live and stops when the task ends; an unknown task is a clear error', async () => {
    const configPath = project();
    await work();
    const child = spawnOxi(['--config', configPath, 'tail', 'T1']);
    await waitFor('the existing stream', () => child.output().includes('✔ done'));
    const stream = join(fx!.adapter.paths.logs, 'T1', 'worker-a0-f0.ndjson');
    appendFileSync(stream, `${JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text: 'a late line, seen live' }] } })}\n`);
    await waitFor('the live line', () => child.output().includes('💬 a late line, seen live'));
    fx!.db.prepare(`UPDATE tasks SET status = 'merged' WHERE id = 'T1'`).run();
    expect(await child.exited).toBe(0);

    const missing = oxi(['--config', configPath, 'tail', 'T9']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No task "T9"');
  });

  it('a task whose logs the janitor removed: says so (when, and what to do) instead of printing nothing', async () => {
    const configPath = project();
    await work();
    const ended = Date.now() - 15 * 86_400_000;
    fx!.db.prepare(`UPDATE tasks SET status = 'merged', updated_at = ? WHERE id = 'T1'`).run(ended);
    const ledger = await sweepLogs({ db: fx!.db, adapter: fx!.adapter, now: Date.now() });
    expect(ledger.map((n) => n.kind)).toEqual(['janitor.logs_removed']);
    const gone = oxi(['--config', configPath, 'tail', 'T1', '--no-follow']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('The agent logs of task T1 were removed by the janitor on');
    expect(gone.stderr).toContain('engine.janitor.logsKeepMs');
    expect(gone.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
