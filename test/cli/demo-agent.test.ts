import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useRealAgent } from '../../src/demo/agent-demo.js';
import { createSampleProject } from '../../src/demo/sample-project.js';
import { loadAdapter } from '../../src/config/load.js';
import { agentEnv } from '../../src/agents/env.js';
import { oxi } from '../helpers/project.js';

let parent: string | undefined;
afterEach(() => parent && rmSync(parent, { recursive: true, force: true }));

describe('oxi demo --agent', () => {
  it('routes planner, worker and critic to the real agent and passes its credentials through the whitelist only', async () => {
    parent = mkdtempSync(join(tmpdir(), 'oxi-demo-agent-'));
    const { configPath } = createSampleProject({ dir: join(parent, 'demo'), tasks: 1 });
    useRealAgent(configPath, 'claude');
    const adapter = await loadAdapter({ configPath, cwd: parent });
    for (const role of ['planner', 'worker', 'critic'] as const) expect(adapter.agents[role].backend).toBe('claude');
    const env = agentEnv(adapter, { PATH: '/bin', ANTHROPIC_API_KEY: 'sk-ant-user', GITHUB_TOKEN: 'ghp_secret' });
    expect(env).toEqual({ PATH: '/bin', ANTHROPIC_API_KEY: 'sk-ant-user' });
    // Even an allow list that names the forge token (an agent once widened its own) never hands it over.
    const widened = { ...adapter, agents: { ...adapter.agents, env: { ...adapter.agents.env, allow: [...adapter.agents.env.allow, 'GH_TOKEN', 'GITHUB_TOKEN'] } } };
    expect(agentEnv(widened, { PATH: '/bin', GH_TOKEN: 'ghp_a', GITHUB_TOKEN: 'ghp_b' })).toEqual({ PATH: '/bin' });
    expect(adapter.budget.perTaskUsd).toBe(1);
  });

  it('an unknown agent is a usage error', () => {
    parent = mkdtempSync(join(tmpdir(), 'oxi-demo-agent-'));
    const r = oxi(['demo', '--dir', join(parent, 'x'), '--agent', 'gpt'], { cwd: parent });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--agent: expected one of scripted, claude, codex, got "gpt"');
  });
});
