/**
 * The workspace setup on SSH hosts (real sshd): it runs on the host that holds the task's slot, in that host's
 * workspace, with the host's own cache directory and its log kept on the host beside the worker's stream.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oxi, query } from '../../../helpers/project.js';
import { twoHostProject, type TwoHosts } from '../../../helpers/two-hosts.js';

const setups: TwoHosts[] = [];
afterAll(async () => {
  for (const s of setups) await s.cleanup();
});

/** Marks the workspace and the cache directory it was given (npm_config_cache points inside it). */
const SETUP = ['sh', '-c', 'echo "setting up in $PWD"; cache="$(dirname "$npm_config_cache")"; echo "$PWD" >> "$cache/setups"; test -f .env && echo "env copied"'];

describe('workspace setup on SSH hosts (real sshd)', () => {
  it('runs on the task\'s host, in its workspace, with that host\'s cache directory', async () => {
    const setup = await twoHostProject({ tasks: 2, config: (c) => (c.workspace = { files: [{ from: 'README.md', to: '.env' }], setup: { command: SETUP } }) });
    setups.push(setup);
    const { project, hosts } = setup;
    const res = oxi(['demo', '--dir', project.dir, '--json', '--no-dashboard'], { timeoutMs: 840_000 });
    expect(res.code, (res.stderr + res.stdout).slice(-4000)).toBe(0);
    expect(JSON.parse(res.stdout).merged).toBe(2);
    const ns = `${JSON.parse(readFileSync(project.configPath, 'utf8')).name}-default`;
    const rows = query<{ id: string; host: string }>(project.db, 'SELECT id, host FROM tasks ORDER BY id');
    for (const r of rows) {
      const mine = hosts[r.host as 'alpha' | 'beta'];
      const log = readFileSync(join(mine.dir, 'work', '.oxi-logs', ns, r.id, 'setup-a0-f0.log'), 'utf8');
      expect(log).toContain(`setting up in ${join(mine.dir, 'work', ns, r.id)}`);
      expect(log).toContain('env copied');
      expect(readFileSync(join(mine.dir, 'work', '.oxi-cache', ns, 'setups'), 'utf8')).toContain(join(mine.dir, 'work', ns, r.id));
    }
    // Nothing of it on the engine's machine, and the copied .env never reached main.
    expect(existsSync(join(project.dir, '.oxi', 'cache'))).toBe(false);
    expect(execFileSync('git', ['ls-tree', '-r', '--name-only', 'main'], { cwd: project.dir, encoding: 'utf8' })).not.toMatch(/^\.env$/m);
    const notes = query<{ payload: string }>(project.db, `SELECT payload FROM event WHERE kind = 'workspace.setup'`).map((n) => JSON.parse(n.payload));
    expect(notes.map((n) => [n.task, n.ok, n.host]).sort()).toEqual(rows.map((r) => [r.id, true, r.host]));
  }, 900_000);
});
