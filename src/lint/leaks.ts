/**
 * The leak lint: core code must not carry strings that belong to one project or machine.
 * Pure: the caller lists the files and reads them; CI runs it through test/lint/leaks.test.ts.
 */
export interface LeakPattern {
  source: string;
  test: RegExp;
}

export interface Leak {
  file: string;
  line: number;
  pattern: string;
  text: string;
}

/** Parses the list: substrings (case-insensitive) or `re:<regex>`; # comments and blanks skipped. */
export function parseLeakList(text: string): LeakPattern[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({
      source: l,
      test: l.startsWith('re:') ? new RegExp(l.slice(3), 'i') : new RegExp(l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'),
    }));
}

/** Core code: everything but adapters/ and tests (and the list itself, and lockfiles). */
export function isCoreFile(path: string, listPath: string): boolean {
  if (path === listPath || path === 'package-lock.json') return false;
  return !/^(adapters|test|tests)\//.test(path);
}

export function findLeaks(file: string, content: string, patterns: readonly LeakPattern[]): Leak[] {
  const leaks: Leak[] = [];
  content.split('\n').forEach((text, i) => {
    for (const p of patterns) if (p.test.test(text)) leaks.push({ file, line: i + 1, pattern: p.source, text: text.trim().slice(0, 160) });
  });
  return leaks;
}
