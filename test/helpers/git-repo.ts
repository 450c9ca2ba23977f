/**
 * Real git repositories in temp dirs for tests. The default tree is a tiny Node package whose
 * `node --test` suite passes, so `checksCommand: ['node', '--test']` works in it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execaSync } from 'execa';

export interface MakeRepoOptions {
  /** Files of the first commit (path → content), laid over the defaults. */
  files?: Record<string, string>;
  /** Start from the default Node package (true) or only from `files` (false). Default true. */
  defaults?: boolean;
  /** Name of the first branch. Default main. */
  branch?: string;
}

export interface TestRepo {
  /** The repository (its main worktree), on `branch` (default main) with one commit. */
  dir: string;
  /** An empty temp dir outside the repo for worktrees, databases and the like; removed by cleanup. */
  scratch: string;
  cleanup: () => void;
}

export const DEFAULT_FILES: Readonly<Record<string, string>> = {
  'package.json': `${JSON.stringify({ name: 'fixture', version: '1.0.0', private: true, scripts: { test: 'node --test' } }, null, 2)}\n`,
  'README.md': '# fixture\n',
  'src/value.js': 'module.exports = { value: 1 };\n',
  'test/value.test.js': [
    "const test = require('node:test');",
    "const assert = require('node:assert');",
    "test('value is 1', () => assert.strictEqual(require('../src/value.js').value, 1));",
    '',
  ].join('\n'),
  '.gitignore': 'node_modules/\n',
};

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

// Without GIT_DIR & co: when tests run inside a git hook those would point at the outer repository.
function fixtureEnv(): Record<string, string> {
  const outer = /^GIT_(DIR|WORK_TREE|INDEX_FILE|COMMON_DIR|PREFIX|OBJECT_DIRECTORY)$/;
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !outer.test(e[0])));
}

/** git, synchronously, for fixtures only (argv form; a fixed identity so no global config is needed). */
export function gitSync(cwd: string, args: readonly string[]): string {
  const r = execaSync('git', ['-c', 'user.name=oxi-test', '-c', 'user.email=oxi-test@localhost', ...args], {
    cwd,
    env: { ...fixtureEnv(), GIT_TERMINAL_PROMPT: '0' },
    extendEnv: false,
    stdin: 'ignore',
  });
  return String(r.stdout);
}

/** A fresh repository on `main` with one commit (synchronous, so it fits anywhere in a test). */
export function makeRepo(options: MakeRepoOptions = {}): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-'));
  const scratch = mkdtempSync(join(tmpdir(), 'oxi-scratch-'));
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    gitSync(dir, ['init', '-q', '-b', options.branch ?? 'main']);
    // A developer's global signing setup must not make test commits prompt or fail.
    gitSync(dir, ['config', 'commit.gpgsign', 'false']);
    writeFiles(dir, { ...(options.defaults === false ? {} : DEFAULT_FILES), ...options.files });
    gitSync(dir, ['add', '-A']);
    gitSync(dir, ['commit', '-q', '--allow-empty', '-m', 'initial commit']);
  } catch (error) {
    cleanup();
    throw error;
  }
  return { dir, scratch, cleanup };
}
