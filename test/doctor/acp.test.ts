/** `oxi doctor` with an ACP agent configured: the protocol handshake with the real agent command. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentChecks } from '../../src/doctor/agents.js';
import { doctorContext } from '../../src/doctor/run.js';
import { validateConfig } from '../../src/config/validate.js';

const ACP_AGENT = resolve(import.meta.dirname, '..', 'fixtures', 'bin', 'acp-agent.mjs');
const root = mkdtempSync(join(tmpdir(), 'oxi-doctor-acp-'));
const repo = join(root, 'repo');
mkdirSync(repo);
execFileSync('git', ['init', '-q', '-b', 'main', repo]);
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function check(acp: Record<string, unknown>, set: Record<string, string> = {}) {
  const configPath = join(root, 'oxi.config.json');
  const raw = { name: 'w', repo: { path: repo }, agents: { planner: { backend: 'acp' }, worker: { backend: 'acp' }, critic: { backend: 'acp' }, acp, env: { set } } };
  writeFileSync(configPath, JSON.stringify(raw));
  const ctx = doctorContext({ cwd: root, configPath, env: { PATH: process.env.PATH, HOME: root } });
  ctx.adapter = validateConfig(raw, { configPath });
  return agentChecks.check(ctx);
}

describe('oxi doctor: acp', () => {
  it('does the handshake: which agent answered, whether it can resume sessions; a broken command fails with a fix', async () => {
    expect(await check({ command: [process.execPath, ACP_AGENT] })).toEqual([
      { id: 'agent:acp', status: 'ok', detail: 'acp agent: oxi-test-agent 1.0.0 (protocol 1), can resume sessions (oxi say)' },
    ]);
    const noLoad = await check({ command: [process.execPath, ACP_AGENT] }, { FAKE_ACP_NO_LOAD: '1' });
    expect(noLoad[0]).toMatchObject({ status: 'warn', detail: expect.stringContaining('cannot resume sessions') });
    const broken = await check({ command: [join(root, 'no-such-agent')] });
    expect(broken[0]).toMatchObject({ id: 'agent:acp', status: 'fail', fix: expect.stringContaining('agents.acp.command') });
    expect(broken[0].detail).toContain('could not start');
  });
});
