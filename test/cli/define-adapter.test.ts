/** `import { defineAdapter } from 'oxi'` works in a user's repository that has no oxi in node_modules. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oxi, ROOT } from '../helpers/project.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-define-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('oxi.config.ts in a user repository', () => {
  it('loads `import { defineAdapter, type AdapterInput } from "oxi"` with no node_modules there', () => {
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: dir });
    writeFileSync(
      join(dir, 'oxi.config.ts'),
      "import { defineAdapter, type AdapterInput } from 'oxi';\nconst checks: AdapterInput['checks'] = { command: ['git', 'status'] };\nexport default defineAdapter({ name: 'mine', checks });\n",
    );
    writeFileSync(join(dir, 'ROADMAP.md'), '## Tier 0\n\n**T0-1 · One**\n_one_\n');
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    const res = oxi(['status', '--dry-run', '--json'], { cwd: dir });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: true, config: 'mine', items: 1 });
  });
});

describe('install from a packed tarball', () => {
  it('npm pack ships the compiled CLI, the dashboard page and the launcher', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
    for (const f of ['bin/oxi.js', 'bin/git-askpass.sh', 'dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'inspector/public/index.html']) expect(files).toContain(f);
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('dist/test/'))).toBe(false);
  });
});
