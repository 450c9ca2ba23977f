import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkEdges, importsOf, neverLines, partOf } from '../../src/lint/import-graph.js';
import { ROOT } from '../helpers/project.js';

/** Tracked and new source files: what a commit would carry. */
function sourceFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return [...new Set(out.split('\0'))].filter((f) => /\.(ts|mts)$/.test(f) && existsSync(join(ROOT, f)) && !f.startsWith('dist/') && !f.endsWith('.d.ts') && f !== 'vitest.config.ts');
}

const exists = (p: string) => existsSync(join(ROOT, p));
/** Programs of their own: the CLI, the bench, the scripted worker the demo runs as an agent, the ACP runner. */
const ENTRY_POINTS = new Set(['src/cli/main.ts', 'bench/run.ts', 'actors/agents/scripted/worker.ts', 'actors/agents/acp/runner.ts']);

describe('the import graph', () => {
  const files = sourceFiles();
  const edges = files.flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8'), exists));

  it('places every source file in the Kernel, the App or the tests', () => {
    expect(files.filter((f) => partOf(f) === undefined)).toEqual([]);
  });

  it('runs one way: the Kernel never imports the App, machines import only xstate and machines, nothing shipped imports a test', () => {
    const shown = checkEdges(edges).map((v) => `${v.rule}: ${v.edge.from}:${v.edge.line} -> ${v.edge.to}`);
    expect(shown).toEqual([]);
    // The check is live: the Kernel and the App both exist and the App does import the Kernel.
    expect(edges.some((e) => partOf(e.from) === 'app' && e.local && partOf(e.to) === 'kernel')).toBe(true);
  });

  it('keeps the nevers: spawn argv-form only, and only an entry point exits the process', () => {
    const found = files.filter((f) => partOf(f) !== 'test').flatMap((f) => neverLines(f, readFileSync(join(ROOT, f), 'utf8'), ENTRY_POINTS));
    expect(found.map((n) => `${n.rule}: ${n.file}:${n.line}: ${n.text}`)).toEqual([]);
  });

  it('catches each kind of stray edge', () => {
    const fake = (from: string, spec: string) => importsOf(from, `import { x } from '${spec}';`, () => true);
    const rules = (from: string, spec: string) => checkEdges(fake(from, spec)).map((v) => v.rule);
    expect(rules('actors/effects/x.ts', '../../src/runtime/engine.js')).toEqual(['the Kernel never imports the App']);
    expect(rules('src/store/x.ts', '../../inspector/server.js')).toEqual(['the Kernel never imports the App']);
    expect(rules('machines/x.ts', '../src/store/db.js')).toEqual(['machines import only xstate and other machines']);
    expect(rules('machines/x.ts', 'node:fs')).toEqual(['machines import only xstate and other machines']);
    expect(rules('src/cli/x.ts', '../../test/helpers/project.js')).toEqual(['shipped code never imports a test']);
    expect(rules('src/runtime/x.ts', '../../actors/index.js')).toEqual([]);
    expect(rules('machines/x.ts', 'xstate')).toEqual([]);
    expect(neverLines('src/x.ts', "spawn('sh', { shell: true });\nprocess.exit(1);\nimport { exec } from 'node:child_process';", new Set())).toHaveLength(3);
    expect(neverLines('src/x.ts', "import { execFile } from 'node:child_process';\ndb.exec('CREATE TABLE t (a)');", new Set())).toEqual([]);
    expect(neverLines('src/cli/main.ts', 'process.exit(1);', new Set(['src/cli/main.ts']))).toEqual([]);
  });
});
