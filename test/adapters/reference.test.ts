import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAdapter } from '../../src/config/load.js';
import { oxi, query, ROOT, sampleProject } from '../helpers/project.js';

const p = sampleProject({ tasks: 3 });
afterAll(() => p.cleanup());

describe('adapters/reference', () => {
  const config = join(p.dir, 'oxi.config.ts');
  // The copy imports defineAdapter from this repository's source, as the comment in the file says.
  writeFileSync(config, readFileSync(join(ROOT, 'adapters/reference/oxi.config.ts'), 'utf8').replace("'../../src/config/define.js'", JSON.stringify(join(ROOT, 'src/config/define.ts'))));
  rmSync(join(p.dir, 'oxi.config.json'));

  it('loads and validates, with every path resolved against the project', async () => {
    const adapter = await loadAdapter({ configPath: config });
    expect(adapter.name).toBe('sample-math');
    expect(adapter.repo.path).toBe(p.dir);
    expect(adapter.paths.db).toBe(join(p.dir, '.oxi', 'oxi.db'));
    expect(adapter.agents.scripted.script).toBe(join(p.dir, '.oxi-script.json'));
    expect(oxi(['--config', config, 'status', '--dry-run']).code).toBe(0);
  });

  it('drives the sample project to every item merged', () => {
    const res = oxi(['--config', config, 'tick', '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(query<{ status: string }>(p.db, 'SELECT status FROM tasks').map((t) => t.status)).toEqual(['merged', 'merged', 'merged']);
    expect(query<{ n: number }>(p.db, `SELECT COUNT(*) AS n FROM event WHERE kind='auto_merge.merged'`)[0].n).toBe(3);
  });
});
