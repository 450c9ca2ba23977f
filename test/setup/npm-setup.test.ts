/**
 * Workspace setup end to end on a repository with real dependencies: a small npm project with a lockfile
 * (one dependency from the registry), run by the real daemon. The setup (`npm ci`) installs in each task's
 * workspace inside the sandbox, `.env.example` is copied to `.env`, the worker's tests pass in its workspace
 * against what the setup installed, the checks pass, and the second task's setup installs from the cache.
 */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostileBed, type HostileBed } from '../helpers/hostile-bed.js';
import { oxi, query } from '../helpers/project.js';

const NPM_PROJECT = resolve(import.meta.dirname, '..', 'fixtures', 'npm-project');
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'USER'];

let bed: HostileBed | undefined;
afterEach(async () => {
  await bed?.cleanup();
  bed = undefined;
});

/** The sample project turned into the npm project, with the setup, the files to copy and the checks that install. */
export function npmProject(c: Record<string, any>, dir: string): void {
  cpSync(NPM_PROJECT, dir, { recursive: true });
  writeFileSync(join(dir, '.env.example'), 'GREETING=hello\n');
  writeFileSync(join(dir, '.gitignore'), '.oxi/\nnode_modules/\n.env\n');
  writeFileSync(join(dir, 'test', 'env.test.js'), "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { readFileSync } from 'node:fs';\n\ntest('.env was copied from .env.example', () => {\n  assert.match(readFileSync('.env', 'utf8'), /GREETING=hello/);\n});\n");
  c.workspace = {
    files: [{ from: '.env.example', to: '.env' }],
    setup: { command: ['npm', 'ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=http'], timeoutMs: 300_000, cacheKey: ['package-lock.json'] },
  };
  // The checks' fresh checkout installs too (its own cache in the sandbox's /tmp), and copies .env like the setup.
  c.checks = { command: ['sh', '-c', 'cp .env.example .env && npm ci --no-audit --no-fund && node --test'], timeoutMs: 300_000, env: { allow: BASE_ENV, set: { npm_config_cache: '/tmp/oxi-checks-npm' } } };
}

/** The setup logs of a task, oldest first. */
function setupLogs(b: HostileBed, id: string): string[] {
  const dir = join(b.logs, id);
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('setup-') && n.endsWith('.log')).sort().map((n) => readFileSync(join(dir, n), 'utf8')) : [];
}

describe('workspace setup: a real npm project', { timeout: 600_000 }, () => {
  it('installs in each workspace, the worker\'s tests and the checks pass, and the second task installs from the cache', async () => {
    bed = hostileBed({ items: [{ id: 'T0-231', attack: 'run-tests' }, { id: 'T0-232', attack: 'run-tests' }], config: (c, { dir }) => npmProject(c, dir) });
    const run = await bed.tick(500_000);
    expect(run.code, run.output).toBe(0);
    expect(bed.tasks(), run.output).toMatchObject([{ id: 'T0-231', status: 'merged' }, { id: 'T0-232', status: 'merged' }]);
    for (const id of ['T0-231', 'T0-232']) {
      // The worker ran the repository's tests in its workspace: the dependency and the copied .env were there.
      expect(bed.fileOnMain(`docs/${id}.md`)).toMatch(/Tests in the workspace: # pass 3, # fail 0/);
      expect(bed.mainFiles()).not.toContain('.env');
    }
    const [first] = setupLogs(bed, 'T0-231');
    const [second] = setupLogs(bed, 'T0-232');
    expect(first).toMatch(/is-number.*\(cache miss\)/);
    // The second task's npm ci took the package from the per-repository cache, not the registry.
    expect(second).toMatch(/added 1 package/);
    expect(second).not.toMatch(/cache miss/);
    const notes = query<{ payload: string }>(bed.db, `SELECT payload FROM event WHERE kind = 'workspace.setup' ORDER BY id`).map((r) => JSON.parse(r.payload));
    expect(notes.map((n) => [n.task, n.ok, n.copied])).toEqual([['T0-231', true, ['.env']], ['T0-232', true, ['.env']]]);
    // `oxi tail` shows the setup's output with the agents' streams.
    const tail = oxi(['--config', bed.configPath, 'tail', 'T0-231', '--no-follow']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout).toMatch(/⚙ setup: added 1 package/);
    const json = oxi(['--config', bed.configPath, 'tail', 'T0-231', '--no-follow', '--json']);
    const setupLines = json.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'oxi.setup').map((e) => e.line as string);
    expect(setupLines.some((l) => l.startsWith('added 1 package')), json.stdout.slice(-2000)).toBe(true);
  });
});
