/**
 * One home for storage: every SQL statement lives in src/store/, behind a named function. This finds
 * SQL anywhere else. An "SQL statement" here is either
 *  - a call of `.prepare(` or `.pragma(` (better-sqlite3's statement and pragma entry points; nothing
 *    else in the code base has methods of those names), or `.exec(` on a receiver named like a
 *    database (`db`, `lock`, `…Db`, `database`); or
 *  - a string literal whose text starts with an SQL statement head: SELECT …, INSERT INTO, UPDATE <t> SET,
 *    DELETE FROM, CREATE TABLE/INDEX/VIEW/TRIGGER, PRAGMA <name>, in upper case (prose never starts so).
 * Comments are skipped, so documentation may name statements.
 */

export interface SqlHit {
  file: string;
  line: number;
  text: string;
}

const CALL = /\.(?:prepare|pragma)\s*\(|\b(?:db|lock|database|\w+Db)\s*\.\s*exec\s*\(/;
const HEAD = /^\s*(?:SELECT\s|INSERT\s+(?:OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\s|PRAGMA\s+\w)/;
const LITERAL = /(['"`])((?:\\.|(?!\1)[^\\])*)/g;

/** The lines of `source` (a TS/JS file) that hold an SQL statement, comments aside. */
export function sqlLines(file: string, source: string): SqlHit[] {
  const hits: SqlHit[] = [];
  let inBlock = false;
  source.split('\n').forEach((raw, i) => {
    let line = raw;
    if (inBlock) {
      const end = line.indexOf('*/');
      if (end < 0) return;
      line = line.slice(end + 2);
      inBlock = false;
    }
    line = line.replace(/\/\*.*?\*\//g, '');
    const open = line.indexOf('/*');
    if (open >= 0) {
      line = line.slice(0, open);
      inBlock = true;
    }
    if (/^\s*\/\//.test(line)) return;
    const literalHead = [...line.matchAll(LITERAL)].some((m) => HEAD.test(m[2]));
    const continuedHead = HEAD.test(line) && /^\s*[A-Z]/.test(line); // the first line of a template literal opened on the line before
    if (CALL.test(line) || literalHead || continuedHead) hits.push({ file, line: i + 1, text: raw.trim() });
  });
  return hits;
}

/** Whether `file` (a repository-relative path) is storage code, where SQL belongs. */
export function isStoreFile(file: string): boolean {
  return file.startsWith('src/store/');
}
