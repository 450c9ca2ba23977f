import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findConfig, loadAdapter } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const definePath = fileURLToPath(new URL('../../src/config/define.ts', import.meta.url));
const indexPath = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'oxi-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

async function loadError(opts: Parameters<typeof loadAdapter>[0]): Promise<ConfigError> {
  const error = await loadAdapter(opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('loadAdapter', () => {
  it('loads a .ts config using defineAdapter and TypeScript syntax', async () => {
    write(
      'oxi.config.ts',
      `import { defineAdapter } from ${JSON.stringify(definePath)};
const tier: { name: string; maxWorkers: number } = { name: 'max', maxWorkers: 6 };
export default defineAdapter({ name: 'from-ts', planTier: tier, roadmap: 'docs/ROADMAP.md' });
`,
    );
    const a = await loadAdapter({ cwd: dir });
    expect(a.name).toBe('from-ts');
    expect(a.planTier).toEqual({ name: 'max', maxWorkers: 6 });
    expect(a.roadmap).toBe(join(dir, 'docs/ROADMAP.md'));
    expect(a.paths.db).toBe(join(dir, '.oxi/oxi.db'));
  });

  it('loads a .mjs config', async () => {
    write('oxi.config.mjs', `export default { name: 'from-mjs', repo: { mainBranch: 'trunk' } };\n`);
    const a = await loadAdapter({ cwd: dir });
    expect(a.name).toBe('from-mjs');
    expect(a.repo).toEqual({ path: dir, mainBranch: 'trunk', forge: { kind: 'local' } });
  });

  it('loads a .json config', async () => {
    write('oxi.config.json', JSON.stringify({ name: 'from-json', paths: { stateDir: 'state' } }));
    const a = await loadAdapter({ cwd: dir });
    expect(a.name).toBe('from-json');
    expect(a.paths.stateDir).toBe(join(dir, 'state'));
  });

  it('takes an explicit --config path relative to cwd, resolving paths against the file', async () => {
    mkdirSync(join(dir, 'conf'));
    write('conf/custom.mjs', `export default { name: 'custom', repo: { path: '..' } };\n`);
    const a = await loadAdapter({ cwd: dir, configPath: 'conf/custom.mjs' });
    expect(a.name).toBe('custom');
    expect(a.repo.path).toBe(dir);
  });

  it('re-reads an edited .ts config (no module cache)', async () => {
    // (.mjs/.js configs go through Node's native import, whose cache lives as long as the process.)
    write('oxi.config.ts', `export default { name: 'one' };\n`);
    expect((await loadAdapter({ cwd: dir })).name).toBe('one');
    write('oxi.config.ts', `export default { name: 'two' };\n`);
    expect((await loadAdapter({ cwd: dir })).name).toBe('two');
  });

  it('loads the example in docs/adapter.md', async () => {
    const doc = readFileSync(new URL('../../docs/adapter.md', import.meta.url), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toContain("from 'oxi'");
    write('oxi.config.ts', example!.replace("from 'oxi'", `from ${JSON.stringify(indexPath)}`));
    const a = await loadAdapter({ cwd: dir });
    expect(a.name).toBe('widgets');
    expect(a.hosts.map((h) => h.name)).toEqual(['local', 'build-1']);
  });

  it('reports a missing config, suggesting oxi init or --config', async () => {
    const e = await loadError({ cwd: dir });
    expect(e.message).toContain(`No adapter config found in ${dir}`);
    expect(e.message).toContain('oxi.config.ts, oxi.config.mjs, oxi.config.js, oxi.config.json');
    expect(e.fix).toContain('oxi init');
    expect(e.fix).toContain('--config');

    const explicit = await loadError({ cwd: dir, configPath: 'nope.ts' });
    expect(explicit.message).toContain(`${join(dir, 'nope.ts')} does not exist`);
  });

  it('reports a config that throws while loading, naming the file and the cause', async () => {
    const path = write('oxi.config.mjs', `throw new Error('boom: no such secret');\n`);
    const e = await loadError({ cwd: dir });
    expect(e.message).toContain(`Failed to load adapter config ${path}`);
    expect(e.message).toContain('boom: no such secret');
    expect((e.cause as Error).message).toBe('boom: no such secret');
  });

  it('reports a .ts config with a broken import', async () => {
    const path = write('oxi.config.ts', `import { nothing } from './missing-module.js';\nexport default { name: nothing };\n`);
    const e = await loadError({ cwd: dir });
    expect(e.message).toContain(`Failed to load adapter config ${path}`);
    expect(e.message).toContain('missing-module');
  });

  it('reports the line and column of a JSON syntax error', async () => {
    const path = write('oxi.config.json', '{\n  "name": "w",\n  "budget": { "perTaskUsd": 1, }\n}\n');
    const e = await loadError({ cwd: dir });
    expect(e.message).toContain(`Invalid JSON in adapter config ${path} at line 3, column 32`);

    write('oxi.config.json', '{\n  "name": oops\n}\n');
    expect((await loadError({ cwd: dir })).message).toContain('at line 2, column 11');
  });

  it('reports validation problems with the file name', async () => {
    const path = write('oxi.config.json', JSON.stringify({ name: 'w', polcy: {} }));
    const e = await loadError({ cwd: dir });
    expect(e.message).toContain(`Invalid adapter config ${path}`);
    expect(e.message).toContain('- polcy: expected a known key');
    expect(e.fix).toContain('did you mean "policy"?');
  });

  it('reports a config without a default export', async () => {
    for (const name of ['oxi.config.mjs', 'oxi.config.ts']) {
      const path = write(name, `export const config = { name: 'w' };\n`);
      const e = await loadError({ cwd: dir, configPath: name });
      expect(e.message).toBe(`Adapter config ${path} has no default export`);
      expect(e.fix).toContain('export default defineAdapter');
    }
    write('oxi.config.ts', `export default undefined;\n`);
    expect((await loadError({ cwd: dir })).message).toContain('- (root): expected an object, got undefined');
  });

  it('rejects unsupported extensions', async () => {
    write('oxi.yaml', 'name: w\n');
    const e = await loadError({ cwd: dir, configPath: 'oxi.yaml' });
    expect(e.message).toContain('expected a .ts, .mjs, .js or .json file');
  });
});

describe('findConfig', () => {
  it('returns undefined when there is no config', () => {
    expect(findConfig(dir)).toBeUndefined();
  });

  it('prefers .ts, then .mjs, .js, .json', () => {
    write('oxi.config.json', '{}');
    expect(findConfig(dir)).toBe(join(dir, 'oxi.config.json'));
    write('oxi.config.js', '');
    expect(findConfig(dir)).toBe(join(dir, 'oxi.config.js'));
    write('oxi.config.mjs', '');
    expect(findConfig(dir)).toBe(join(dir, 'oxi.config.mjs'));
    write('oxi.config.ts', '');
    expect(findConfig(dir)).toBe(join(dir, 'oxi.config.ts'));
  });

  it('does not look in parent directories, nor take a directory for a file', () => {
    write('oxi.config.ts', '');
    mkdirSync(join(dir, 'sub', 'oxi.config.ts'), { recursive: true });
    expect(findConfig(join(dir, 'sub'))).toBeUndefined();
  });
});
