/** The demo teaches the right lesson: its code is correct, its tests check it, and wrong code is not approved. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSampleProject } from '../../src/demo/sample-project.js';
import { oxi, sampleProject } from '../helpers/project.js';

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

type Script = { tasks: Record<string, { files: Record<string, string> }> };

describe('the demo sample project', () => {
  it('negate(x) is -x, every function does what its item says, and the tests fail on wrong code', () => {
    const parent = mkdtempSync(join(tmpdir(), 'oxi-demo-code-'));
    cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
    const dir = join(parent, 'p');
    const { ids } = createSampleProject({ dir, tasks: 10 });
    const script = JSON.parse(readFileSync(join(dir, '.oxi-script.json'), 'utf8')) as Script;
    const roadmap = readFileSync(join(dir, 'ROADMAP.md'), 'utf8');
    const negate = Object.values(script.tasks).find((t) => t.files['src/negate.js'])!;
    expect(negate.files['src/negate.js']).toBe('export function negate(x) {\n  return -x;\n}\n');
    expect(roadmap).toContain('returning its argument with the sign flipped (`-x`)');
    // The scripted code passes its tests...
    for (const id of ids) for (const [path, content] of Object.entries(script.tasks[id].files)) (mkdirSync(dirname(join(dir, path)), { recursive: true }), writeFileSync(join(dir, path), content));
    execFileSync('node', ['--test'], { cwd: dir, stdio: 'pipe' });
    // ...and the tests catch a wrong one.
    writeFileSync(join(dir, 'src/negate.js'), 'export function negate(x) {\n  return x * 4;\n}\n');
    expect(() => execFileSync('node', ['--test', 'test/negate.test.js'], { cwd: dir, stdio: 'pipe' })).toThrow();
  });

  it('a demo item whose code is wrong is caught by the checks and never merged', () => {
    const p = sampleProject({
      tasks: 3,
      script: (s) => {
        const t = Object.values(s.tasks).find((x) => (x.files as Record<string, string>)['src/negate.js']) as { files: Record<string, string> };
        t.files['src/negate.js'] = 'export function negate(x) {\n  return x * 4;\n}\n';
      },
    });
    cleanups.push(p.cleanup);
    const res = oxi(['demo', '--dir', p.dir, '--json', '--no-dashboard'], { timeoutMs: 600_000 });
    const out = JSON.parse(res.stdout);
    const negate = out.tasks.find((t: { id: string }) => t.id === p.ids[2]);
    expect(negate.status).toBe('abandoned');
    expect(negate.reason).toContain('negate');
    expect(out.merged).toBe(2);
    expect(res.code).toBe(2);
    // The wrong code never reached the main branch.
    expect(existsSync(join(p.dir, 'src', 'negate.js'))).toBe(false);
  });
});
