/** Every SQL statement lives in src/store/, behind a named function (see src/lint/sql-home.ts for what counts). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStoreFile, sqlLines } from '../../src/lint/sql-home.js';
import { ROOT } from '../helpers/project.js';

const CODE_DIRS = ['src/', 'actors/', 'machines/', 'inspector/', 'bench/', 'adapters/', 'bin/', 'lint/'];

/** Tracked and new source files outside tests: what a commit would carry. */
function sourceFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((f) => CODE_DIRS.some((d) => f.startsWith(d)) && /\.(?:ts|js|mjs|cjs)$/.test(f) && f !== 'src/lint/sql-home.ts');
}

describe('one home for storage', () => {
  it('no SQL statement outside src/store/', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(100);
    const stray = files.filter((f) => !isStoreFile(f)).flatMap((f) => sqlLines(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(stray.map((h) => `${h.file}:${h.line}: ${h.text}`), 'move these into a named function in src/store/<concern>.ts').toEqual([]);
  });

  it('the scan sees the SQL src/store/ holds (it would see it elsewhere)', () => {
    const inStore = sourceFiles()
      .filter(isStoreFile)
      .flatMap((f) => sqlLines(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(inStore.length).toBeGreaterThan(50);
  });

  it('flags statements, calls and continued template literals; not prose, regexes, host commands or comments', () => {
    const flagged = (src: string) => sqlLines('x.ts', src).length;
    expect(flagged(`const r = db.prepare('SELECT 1').get();`)).toBe(1);
    expect(flagged(`x.pragma('user_version');`)).toBe(1);
    expect(flagged(`lock.exec('CREATE TABLE t (a)');`)).toBe(1);
    expect(flagged(`const q = "DELETE FROM kill_group WHERE host = ?";`)).toBe(1);
    expect(flagged("const q = `UPDATE tasks SET status=? WHERE id=?`;")).toBe(1);
    expect(flagged("run(\n  `INSERT INTO event (at) VALUES (?)`,\n);")).toBe(1);
    expect(flagged("const q = `\n  SELECT id FROM tasks`;")).toBe(1);
    expect(flagged(`const m = /^(\\d+)$/.exec(text);`)).toBe(0);
    expect(flagged(`await host.exec(['true']);`)).toBe(0);
    expect(flagged(`const msg = 'Select a host, then update the config';`)).toBe(0);
    expect(flagged(`if (method === 'DELETE') return;`)).toBe(0);
    expect(flagged(`// db.prepare('SELECT 1') is how a row is read`)).toBe(0);
    expect(flagged(`/**\n * SELECT * FROM event\n */`)).toBe(0);
  });
});
