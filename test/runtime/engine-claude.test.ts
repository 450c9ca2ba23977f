/**
 * The whole loop on the real Claude Code CLI: one roadmap item goes planner → worker → critic, each a real
 * `claude -p` run against a scripted Messages API on loopback, and the local forge merges it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claudeTestEnv, REAL_CLAUDE } from '../helpers/agent-deps.js';
import { gitSync } from '../helpers/git-repo.js';
import { startAnthropicApi, type ScriptedModelServer } from '../helpers/model-api/anthropic.js';
import { oxi, query, sampleProject, spawnOxi } from '../helpers/project.js';

let api: ScriptedModelServer | undefined;
let cleanup: (() => void) | undefined;

afterEach(async () => {
  await api?.close();
  cleanup?.();
});

const DOUBLE = 'export function double(x) {\n  return x * 2;\n}\n';
const DOUBLE_TEST = "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { double } from '../src/double.js';\n\ntest('double', () => {\n  assert.equal(double(3), 6);\n});\n";

describe('engine on the real claude CLI', () => {
  it('plans, works, reviews and merges one item; status and tasks show the backend that served it', async () => {
    let worktree = '';
    let plannerSawLesson = false;
    const roles: string[] = [];
    api = await startAnthropicApi((req) => {
      if (req.userText.includes('You are planning one roadmap item')) {
        roles.push('planner');
        plannerSawLesson = req.userText.includes('pure functions get a node:test file');
        return { text: JSON.stringify({ files_touched: ['src/double.js', 'test/double.test.js'], tests: ['node --test'], dependencies: [], risk: 'low', summary: 'add double' }) };
      }
      if (req.userText.includes('Review this change against its plan')) {
        roles.push('critic');
        // The critic sees the actual diff: approve only if the change is really there.
        const sawDiff = req.userText.includes('+export function double(x)') && req.userText.includes('test/double.test.js');
        return { text: JSON.stringify(sawDiff ? { verdict: 'approve', reasons: ['double and its test, as planned'] } : { verdict: 'reject', reasons: ['the diff is not the planned change'] }) };
      }
      if (req.toolResults.length === 0) roles.push('worker');
      switch (req.toolResults.length) {
        case 0:
          return { tool: { name: 'Write', input: { file_path: join(worktree, 'src/double.js'), content: DOUBLE } } };
        case 1:
          return { tool: { name: 'Write', input: { file_path: join(worktree, 'test/double.test.js'), content: DOUBLE_TEST } } };
        case 2:
          return { tool: { name: 'Bash', input: { command: 'git add src/double.js test/double.test.js && git commit -m "T0-101: add double"', description: 'commit' } } };
        default:
          return { text: 'Added double(x) with its test and committed.' };
      }
    });
    const server = api;
    const project = sampleProject({
      tasks: 1,
      config: (c) => {
        const route = { backend: 'claude', model: 'claude-sonnet-4-5' };
        c.agents = {
          ...c.agents,
          planner: route,
          worker: route,
          critic: route,
          claude: { command: [REAL_CLAUDE] },
          env: { allow: ['PATH', 'LANG'], set: claudeTestEnv(server.url, 'set-below') },
          timeouts: { wallMinutes: 3, stallMinutes: 2 },
        };
        c.memory = { kind: 'file', dir: '.oxi/memory' };
      },
    });
    cleanup = project.cleanup;
    worktree = join(project.dir, '.oxi', 'worktrees', 'demo-default', 'T0-101');
    // HOME for claude's session transcripts: inside the project's ignored state dir.
    const config = JSON.parse(gitSync(project.dir, ['show', 'HEAD:oxi.config.json']));
    config.agents.env.set.HOME = join(project.dir, '.oxi', 'agent-home');
    writeFileSync(project.configPath, JSON.stringify(config, null, 2));
    mkdirSync(join(project.dir, '.oxi', 'memory'), { recursive: true });
    writeFileSync(join(project.dir, '.oxi', 'memory', 'math-functions.md'), '# Math functions\nIn this library, pure functions get a node:test file next to the others in test/.\n');
    writeFileSync(join(project.dir, '.oxi', 'memory', 'release.md'), '# Releases\nTag releases from main after the changelog is updated.\n');

    // Async: the scripted model answers from this process, so the CLI must not block it.
    const child = spawnOxi(['demo', '--dir', project.dir, '--json']);
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const code = await child.exited;
    expect(code, child.output()).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ merged: 1, abandoned: 0 });
    expect(roles).toEqual(['planner', 'worker', 'critic']);
    // Memory: the relevant lesson reached the planner; the merged task left an episodic note.
    expect(plannerSawLesson).toBe(true);
    const episode = readFileSync(join(project.dir, '.oxi', 'memory', 'episodes', 'T0-101.md'), 'utf8');
    expect(episode).toContain('- outcome: merged');
    expect(episode).toContain('approve: double and its test, as planned');

    // Merged by the local forge: one squash commit on main with the worker's files.
    expect(gitSync(project.dir, ['show', 'main:src/double.js']).trim()).toBe(DOUBLE.trim());
    expect(gitSync(project.dir, ['log', '-1', '--format=%s', 'main'])).toContain('T0-101');

    const tasks = JSON.parse(oxi(['--config', project.configPath, 'tasks', '--json']).stdout);
    expect(tasks).toEqual([expect.objectContaining({ id: 'T0-101', status: 'merged', backend: 'claude/claude-sonnet-4-5' })]);
    const status = JSON.parse(oxi(['--config', project.configPath, 'status', '--json']).stdout);
    expect(status.agents.backends).toEqual({ 'claude/claude-sonnet-4-5': 1 });
    expect(status.spend.today).toBeGreaterThan(0);
    const sessions = query<{ payload: string }>(project.db, `SELECT payload FROM event WHERE kind = 'agent.session'`);
    expect(sessions).toHaveLength(1);
    expect(JSON.parse(sessions[0].payload)).toMatchObject({ backend: 'claude', model: 'claude-sonnet-4-5', session: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });
});
