/** `oxi status --json` says whether agents run sandboxed here (`agents.sandbox`), and the human form says it in words. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oxi, sampleProject } from '../../helpers/project.js';

let on: ReturnType<typeof sampleProject>;
let off: ReturnType<typeof sampleProject>;
beforeAll(() => {
  on = sampleProject({ tasks: 1 });
  off = sampleProject({ tasks: 1, config: (c) => (c.agents = { ...c.agents, sandbox: { mode: 'none' } }) });
});
afterAll(() => {
  on?.cleanup();
  off?.cleanup();
});

describe('oxi status: agents.sandbox', () => {
  it('reports bubblewrap available, and plainly "agents are NOT sandboxed" when it is off', () => {
    const yes = oxi(['--config', on.configPath, 'status', '--json']);
    expect(yes.code, yes.stderr).toBe(0);
    expect(JSON.parse(yes.stdout).agents.sandbox).toMatchObject({ kind: 'bubblewrap', available: true, reason: expect.stringMatching(/^bubblewrap \d/) });
    const no = oxi(['--config', off.configPath, 'status', '--json']);
    expect(JSON.parse(no.stdout).agents.sandbox).toEqual({ kind: 'none', available: false, reason: 'agents.sandbox.mode is "none"' });
    const words = oxi(['--config', off.configPath, 'status']);
    expect(words.stdout).toContain('agents are NOT sandboxed (agents.sandbox.mode is "none")');
  });

  it('agents.network: the default allowlist where bubblewrap runs; without a sandbox the default is an open network, said as a warning', () => {
    const yes = oxi(['--config', on.configPath, 'status', '--json']);
    expect(JSON.parse(yes.stdout).agents.network).toEqual({ mode: 'allowlist', configured: false, supported: true });
    expect(oxi(['--config', on.configPath, 'status']).stdout).toContain("network  agents reach only the allowed hosts, through oxi's proxy");
    const no = oxi(['--config', off.configPath, 'status', '--json']);
    expect(JSON.parse(no.stdout).agents.network).toMatchObject({ mode: 'open', configured: false, supported: false });
    expect(oxi(['--config', off.configPath, 'status']).stdout).toMatch(/network {2}.*agents' network is open: the allowlist needs bubblewrap, and agents here are not sandboxed/);
    const doctor = JSON.parse(oxi(['--config', off.configPath, 'doctor', '--json']).stdout);
    expect(doctor.checks.find((c: { id: string }) => c.id === 'network:local')).toMatchObject({ status: 'warn', fix: expect.stringContaining('bubblewrap') });
  });
});
