/**
 * `oxi say` on the real Claude Code CLI against a scripted Anthropic Messages API: the first turn is held open
 * (a tool call that waits for a file), a message is queued, and when the turn ends oxi resumes the session with
 * `claude --resume`: the model's next request carries the whole earlier conversation and the message.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent } from '../../../actors/effects/run-agent.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import { sayToTask } from '../../../src/say/say.js';
import { getListener, messagesOf } from '../../../src/store/messages.js';
import { agentFixture, claudeTestEnv, REAL_CLAUDE, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { makeRepo, type TestRepo } from '../../helpers/git-repo.js';
import { startAnthropicApi, type ScriptedModelServer } from '../../helpers/model-api/anthropic.js';
import { waitFor } from '../../helpers/project.js';

let repo: TestRepo;
let fx: AgentFixture | undefined;
let api: ScriptedModelServer | undefined;
let group: number | undefined;

afterEach(async () => {
  if (group) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // gone
    }
  }
  fx?.close();
  await api?.close();
  repo?.cleanup();
});

describe('oxi say on the real claude CLI', () => {
  it('resumes the same session with the message after the turn: the model sees the earlier conversation and the message', { timeout: 600_000 }, async () => {
    repo = makeRepo();
    const cwd = join(repo.scratch, 'wt');
    await ensureWorkspace({ mainClone: repo.dir, path: cwd, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
    const go = join(repo.scratch, 'signals', 'go');
    mkdirSync(join(repo.scratch, 'signals'));
    const wait = `node -e "const f=require('fs');const t=setInterval(()=>{if(f.existsSync('${go}')){clearInterval(t);console.log('go')}},200)"`;
    api = await startAnthropicApi((req) => {
      if (req.userText.includes('Message from the operator')) return { text: 'Understood: I will also mention it in the README.' };
      if (req.toolResults.length === 0) return { tool: { name: 'Bash', input: { command: wait, description: 'wait for the signal' } } };
      return { text: 'First turn done.' };
    });
    fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
      agents: {
        worker: { backend: 'claude', model: 'claude-sonnet-4-5' },
        claude: { command: [REAL_CLAUDE] },
        env: { allow: ['PATH', 'LANG'], set: claudeTestEnv(api.url, join(repo.scratch, 'home')) },
        timeouts: { wallMinutes: 5, stallMinutes: 3 },
        sandbox: { writable: [join(repo.scratch, 'signals')] },
      },
    });
    seedTask(fx.db, 'T1');
    const input = { taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1', plan: { files_touched: ['README.md'], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 'Document it', description: 'Write the docs.' };
    const running = runAgent(fx.deps, input, new AbortController().signal);
    group = await waitFor('the live worker', () => getListener(fx!.db, 'T1')?.pid, 180_000);
    await waitFor('the first turn to wait on its tool', () => api!.requests.length >= 1, 180_000);
    sayToTask({ db: fx.db, stateDir: fx.adapter.paths.stateDir, by: 'test' }, 'T1', 'Mention the new flag in the README.');
    writeFileSync(go, '');
    const out = await running;
    expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'ok', backend: 'claude' });

    const resumed = api.requests.filter((r) => r.userText.includes('Mention the new flag in the README.'));
    expect(resumed.length).toBeGreaterThan(0);
    // Same session: the earlier prompt and the first turn's tool result are in the resumed conversation.
    expect(resumed[0].userText).toContain('Write the docs.');
    expect(resumed[0].toolResults.map((t) => t.content).join('\n')).toContain('go');
    const session = out.ledger?.find((l) => l.kind === 'agent.session')?.payload as { session: string };
    expect(messagesOf(fx.db, 'T1')[0]).toMatchObject({ session: session.session, delivered_at: expect.any(Number) });
  });
});
