import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLeaks, isCoreFile, parseLeakList } from '../../src/lint/leaks.js';
import { ROOT } from '../helpers/project.js';

const LIST = 'lint/leak-strings.txt';
const patterns = parseLeakList(readFileSync(join(ROOT, LIST), 'utf8'));

/** Tracked files plus new ones not ignored: what a commit would carry. */
function repoFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return [...new Set(out.split('\0').filter(Boolean))];
}

describe('leak lint', () => {
  it('core code contains none of the strings in lint/leak-strings.txt', () => {
    const leaks = repoFiles()
      .filter((f) => isCoreFile(f, LIST))
      .flatMap((f) => {
        let content: string;
        try {
          content = readFileSync(join(ROOT, f), 'utf8');
        } catch {
          return []; // deleted in the working tree
        }
        return content.includes('\0') ? [] : findLeaks(f, content, patterns);
      });
    expect(leaks.map((l) => `${l.file}:${l.line}: matches ${l.pattern}: ${l.text}`)).toEqual([]);
  });

  it('the lint catches what the list names, and spares adapters/ and tests', () => {
    expect(patterns.length).toBeGreaterThan(5);
    const list = parseLeakList('# comment\n\nAcmeCorp\nre:build-\\d+\\.internal');
    expect(findLeaks('src/x.ts', 'const a = 1;\nconst repo = "acmecorp/api";\nssh build-7.internal', list)).toEqual([
      { file: 'src/x.ts', line: 2, pattern: 'AcmeCorp', text: 'const repo = "acmecorp/api";' },
      { file: 'src/x.ts', line: 3, pattern: 're:build-\\d+\\.internal', text: 'ssh build-7.internal' },
    ]);
    expect(findLeaks('src/y.ts', 'cd /Users/alice/code', patterns)).toHaveLength(1);
    expect(findLeaks('src/y.ts', `token ghp_${'a'.repeat(36)}`, patterns)).toHaveLength(1);
    expect(findLeaks('docs/a.md', 'Invalid adapter config /home/me/widgets/oxi.config.ts', patterns)).toEqual([]);
    expect(isCoreFile('adapters/acme/oxi.config.ts', LIST)).toBe(false);
    expect(isCoreFile('test/x.test.ts', LIST)).toBe(false);
    expect(isCoreFile('src/cli/main.ts', LIST)).toBe(true);
  });
});
