/**
 * The checks run the change's own code, so the local forge runs them in the agents' sandbox (contract 3.7): a test
 * file a worker wrote cannot read the engine's environment or write the main clone, and honest checks still pass.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalForge } from '../../../actors/forges/local-forge.js';
import { engineMachine, sandboxOf } from '../../../actors/sandbox/sandbox.js';
import { checksCheckout } from '../../../actors/hosts/workspace.js';
import { validateConfig } from '../../../src/config/validate.js';
import { openDb } from '../../../src/store/db.js';
import { gitSync, makeRepo, writeFiles, type TestRepo } from '../../helpers/git-repo.js';

let repos: TestRepo[] = [];
afterEach(() => {
  repos.forEach((r) => r.cleanup());
  repos = [];
});

async function checksOf(command: string[], files: Record<string, string>) {
  const r = makeRepo();
  repos.push(r);
  writeFiles(r.dir, files);
  gitSync(r.dir, ['add', '-A']);
  gitSync(r.dir, ['commit', '-q', '--allow-empty', '-m', 'the change under test']);
  gitSync(r.dir, ['branch', 'oxi/t1']);
  const head = gitSync(r.dir, ['rev-parse', 'HEAD']).trim();
  const adapter = validateConfig({ name: 'fx', repo: { path: r.dir }, checks: { command }, paths: { stateDir: join(r.scratch, 'state') } }, { configPath: join(r.dir, 'oxi.config.json') });
  const db = openDb(join(r.scratch, 'oxi.db'));
  const forge = new LocalForge({
    db, repo: r.dir, mainBranch: 'main', checksCommand: command, checksTimeoutMs: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, now: () => Date.now(),
    sandbox: async (argv, cwd, env) => (await sandboxOf(adapter, engineMachine).wrap({ role: 'checks', backend: 'checks', argv, env, workspace: cwd, writable: true, waited: true })).argv,
  });
  const pr = await forge.openPr({ task: 'T1', branch: 'oxi/t1', base: 'main', title: 't', body: '', headSha: head });
  const where = await checksCheckout(r.dir, join(adapter.paths.worktreesRoot, 'fx-default', 'checks-T1'), head);
  const result = await forge.runChecks(pr, where);
  db.close();
  return { r, result };
}

describe('checks in the sandbox', () => {
  it('honest checks pass', async () => {
    const { result } = await checksOf(['node', '--test'], {});
    expect(result.state).toBe('success');
  });

  it('a hostile test reads no other process’s environment and writes nothing outside its checkout', async () => {
    // A process of the engine's user holding a secret in its environment, as the engine holds its token.
    const holder = spawn('sleep', ['120'], { env: { PATH: process.env.PATH, OXI_TEST_SECRET: 'sentinel-engine-secret' }, stdio: 'ignore' });
    try {
      const target = mkdtempSync(join(tmpdir(), 'oxi-target-'));
      const { result } = await checksOf(['sh', 'evil.sh'], {
        'evil.sh': [
          'for f in /proc/[0-9]*/environ; do cat "$f" 2>/dev/null; done | tr "\\0" "\\n" > found.txt',
          `echo pwned > ${target}/pwned 2>/dev/null`,
          'if grep -q sentinel-engine-secret found.txt; then echo "read the secret"; exit 1; fi',
          '',
        ].join('\n'),
      });
      expect(result.state, result.log).toBe('success');
      expect(existsSync(join(target, 'pwned'))).toBe(false);
      rmSync(target, { recursive: true, force: true });
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
