import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** Shell words that are no program on PATH. */
const SHELL_BUILTINS = new Set(['cd', 'exit', 'true', 'false', 'test', '[', 'set', 'export', 'exec', '.', 'source', 'echo', 'printf', 'command', 'if', 'for', 'while', 'env']);

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where `program` resolves (a path relative to `cwd`, or a name on `path`), or undefined: what exec would find. */
export function resolveProgram(program: string, cwd: string, path: string | undefined): string | undefined {
  if (program.includes('/')) {
    const file = isAbsolute(program) ? program : resolve(cwd, program);
    return executable(file) ? file : undefined;
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir && executable(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

/**
 * The program an argv really needs: argv[0], or for `sh -c "<script>"` the script's first word
 * (a shell that cannot find it exits 127). Undefined when that word is a builtin or not plain.
 */
export function programsOf(argv: readonly string[]): string[] {
  const [first, ...rest] = argv;
  const shell = /(^|\/)(ba|da|z)?sh$/.test(first ?? '');
  const c = rest.indexOf('-c');
  if (!shell || c < 0 || rest[c + 1] === undefined) return first ? [first] : [];
  const word = rest[c + 1].trim().split(/[\s;&|()]+/)[0] ?? '';
  const plain = /^[A-Za-z0-9_./-]+$/.test(word) && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word) && !SHELL_BUILTINS.has(word);
  return plain ? [first, word] : [first];
}
