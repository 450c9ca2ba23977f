/**
 * protectedPathsTouched: which changed files always need a human, whatever `policy.scope` allows.
 * One table per kind of adapter; each row is a changed path and whether it is protected.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAdapter } from '../../src/config/load.js';
import { protectedPathsTouched, protectedReason } from '../../src/config/protected-paths.js';
import type { Adapter } from '../../src/config/schema.js';
import { importsOf } from '../../src/config/source.js';
import { validateConfig } from '../../src/config/validate.js';

const validate = (raw: Record<string, unknown>, configPath = '/proj/oxi.config.json'): Adapter => {
  const adapter = validateConfig({ name: 'p', ...raw }, { configPath });
  adapter.source = { path: configPath, sha256: '0'.repeat(64), imports: [], importsPackages: false, gitBlob: { sha1: '', sha256: '' } };
  return adapter;
};

const cases = (adapter: Adapter, rows: Array<[string, boolean]>) => {
  for (const [file, expected] of rows) {
    expect([file, protectedPathsTouched([file], adapter).length === 1]).toEqual([file, expected]);
  }
};

describe('protectedPathsTouched', () => {
  it('protects the built-in list, whatever policy.scope allows', () => {
    // Scope wide open and nothing sensitive: the built-in list still holds.
    const adapter = validate({ policy: { scope: { allowed: [''], blocked: [], sensitive: [] } } });
    cases(adapter, [
      ['oxi.config.json', true],
      ['OXI.CONFIG.JSON', true], // a case-insensitive checkout maps it onto the adapter
      ['oxi.config.ts', true], // would shadow the .json adapter at the next start
      ['oxi.config.mjs', true],
      ['./oxi.config.js', true],
      ['.oxi/oxi.db', true],
      ['.oxi', true],
      ['.gitignore', true],
      ['.gitattributes', true],
      ['.gitmodules', true],
      ['sub/dir/.gitattributes', true],
      ['.github/workflows/evil.yml', true],
      ['.github/CODEOWNERS', true],
      ['.gitlab-ci.yml', true],
      ['.circleci/config.yml', true],
      ['.buildkite/pipeline.yml', true],
      ['azure-pipelines.yml', true],
      ['Jenkinsfile', true],
      ['.husky/pre-commit', true],
      ['ROADMAP.md', true],
      ['src/index.ts', false],
      ['docs/ROADMAP.md', false],
      ['src/oxi.config.json.md', false],
      ['.oxi-script.json', false],
      ['github/notes.md', false],
    ]);
  });

  it('protects package manifests when the checks run through a package manager', () => {
    cases(validate({ checks: { command: ['npm', 'test'] } }), [
      ['package.json', true],
      ['package-lock.json', true],
      ['.npmrc', true],
      ['packages/a/package.json', false],
    ]);
    cases(validate({ checks: { command: ['node', '--test'] } }), [['package.json', false]]);
    // A code adapter importing a package: the manifest decides which code it runs.
    const code = validate({ checks: { command: ['node', '--test'] } }, '/proj/oxi.config.ts');
    code.source = { ...code.source!, importsPackages: true };
    cases(code, [['package.json', true], ['yarn.lock', true]]);
  });

  it("protects the checks' own files when the command names them", () => {
    cases(validate({ checks: { command: ['./scripts/check.sh', '--all'] } }), [['scripts/check.sh', true], ['scripts/other.sh', false]]);
    cases(validate({ checks: { command: ['node', '--test-reporter=spec', 'tools/check.mjs'] } }), [['tools/check.mjs', true], ['tools/x.mjs', false]]);
    cases(validate({ checks: { command: ['bash', '-c', 'npm test'] } }), [['package.json', false], ['src/a.ts', false]]);
    cases(validate({ checks: { command: ['make', 'check'] } }), [['Makefile', true], ['src/Makefile', false]]);
    cases(validate({ checks: { command: ['/usr/bin/node', 'ci/run.js'] } }), [['ci/run.js', true]]);
  });

  it('follows the paths the adapter sets: config dir, state dir, roadmap, files it names', () => {
    const adapter = validate(
      {
        repo: { path: '../..' },
        roadmap: 'plans/ROADMAP.md',
        paths: { stateDir: 'state', db: '/var/lib/oxi.db' },
        agents: { scripted: { script: 'script.json' } },
        hosts: [{ name: 'b', kind: 'ssh', address: 'h', user: 'u', mainClone: '/r', worktreesRoot: '/w', knownHosts: 'keys/known_hosts' }],
      },
      '/proj/tools/oxi/oxi.config.json',
    );
    cases(adapter, [
      ['tools/oxi/oxi.config.json', true],
      ['tools/oxi/oxi.config.ts', true],
      ['tools/oxi/state/oxi.db', true],
      ['tools/oxi/state/logs/T1/worker.ndjson', true],
      ['tools/oxi/plans/ROADMAP.md', true],
      ['tools/oxi/script.json', true],
      ['tools/oxi/keys/known_hosts', true],
      ['tools/oxi/src/a.ts', false],
      ['ROADMAP.md', false],
      ['oxi.config.json', true], // the repository root too: where `oxi` run there looks first
    ]);
  });

  it('lets an adapter add to the list, never remove from it', () => {
    const adapter = validate({ policy: { scope: { protected: ['infra/', 'Dockerfile'], sensitive: [], blocked: [] } } });
    cases(adapter, [['infra/main.tf', true], ['dockerfile', true], ['.github/workflows/x.yml', true], ['oxi.config.json', true], ['src/a.ts', false]]);
    expect(() => validateConfig({ name: 'p', policy: { scope: { protected: ['/etc/'] } } }, { configPath: '/proj/oxi.config.json' })).toThrow(/policy\.scope\.protected\.0/);
  });

  it('returns the touched files in order, and the reason names the first', () => {
    const adapter = validate({});
    const touched = protectedPathsTouched(['src/a.ts', '.github/workflows/evil.yml', 'oxi.config.json', 'ROADMAP.md'], adapter);
    expect(touched).toEqual(['.github/workflows/evil.yml', 'oxi.config.json', 'ROADMAP.md']);
    expect(protectedReason(touched)).toBe('touches protected path .github/workflows/evil.yml (and 2 more: oxi.config.json, ROADMAP.md)');
    expect(protectedReason(['oxi.config.json'])).toBe('touches protected path oxi.config.json');
  });
});

describe('a code adapter and what it imports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-protect-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('protects the local files the adapter imports, transitively, as loaded', async () => {
    mkdirSync(join(dir, 'oxi'), { recursive: true });
    writeFileSync(join(dir, 'oxi.config.ts'), "import { defineAdapter } from 'oxi';\nimport { hosts } from './oxi/hosts.js';\nexport default defineAdapter({ name: 'p', hosts });\n");
    writeFileSync(join(dir, 'oxi/hosts.ts'), "import { n } from './n';\nexport const hosts = [{ name: 'local', kind: 'local', maxWorkers: n }];\n");
    writeFileSync(join(dir, 'oxi/n.ts'), 'export const n = 1;\n');
    expect(importsOf(join(dir, 'oxi.config.ts'), "import x from './oxi/hosts.js'; import 'node:fs';")).toEqual({ imports: [join(dir, 'oxi/hosts.ts'), join(dir, 'oxi/n.ts')], importsPackages: false });
    // `oxi` is not installed in the temp dir: validate the source record without running the file.
    const source = (await import('../../src/config/source.js')).configSource(join(dir, 'oxi.config.ts'), Buffer.from("import { defineAdapter } from 'oxi';\nimport { hosts } from './oxi/hosts.js';\n"));
    const adapter = validate({}, join(dir, 'oxi.config.ts'));
    adapter.source = source;
    expect(protectedPathsTouched(['oxi.config.ts', 'oxi/hosts.ts', 'oxi/n.ts', 'oxi/other.ts', 'package.json'], { ...adapter, repo: { ...adapter.repo, path: dir } })).toEqual(['oxi.config.ts', 'oxi/hosts.ts', 'oxi/n.ts', 'package.json']);
  });

  it('loadAdapter records the source: path, sha256 and imports', async () => {
    writeFileSync(join(dir, 'local.ts'), 'export const name = "p";\n');
    writeFileSync(join(dir, 'oxi.config.ts'), "import { name } from './local';\nexport default { name };\n");
    const adapter = await loadAdapter({ cwd: dir });
    expect(adapter.source).toMatchObject({ path: join(dir, 'oxi.config.ts'), imports: [join(dir, 'local.ts')], importsPackages: false });
    expect(adapter.source!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(protectedPathsTouched(['local.ts'], adapter)).toEqual(['local.ts']);
  });
});
