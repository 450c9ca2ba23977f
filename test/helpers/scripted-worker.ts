/**
 * The scripted worker as a real `node` subprocess from dist/ (Node 20 cannot run .ts): a temp dir with a
 * script, fresh git repos, and a build of the worker when its sources are newer (`npm test` builds via pretest).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { workerScriptPath } from '../../actors/agents/scripted/paths.js';
import { gitSync } from './git-repo.js';

const root = join(import.meta.dirname, '..', '..');
const SOURCES = ['actors/agents/scripted/worker.ts', 'actors/agents/scripted/roles.ts', 'actors/agents/scripted/script.ts', 'src/errors.ts'].map((f) => join(root, f));

export interface ScriptedWorkerBed {
  tmp: string;
  scriptPath: string;
  makeRepo(): string;
  run(task: string, cwd: string, extra?: string[], script?: string): ReturnType<typeof spawnSync> & { stdout: string; stderr: string };
}

/** Registers beforeAll/afterAll: the script is written and the worker built before the file's tests. */
export function scriptedWorkerBed(label: string, script: unknown): ScriptedWorkerBed {
  const tmp = mkdtempSync(join(tmpdir(), `oxi-${label}-`));
  const scriptPath = join(tmp, 'script.json');
  beforeAll(() => {
    writeFileSync(scriptPath, JSON.stringify(script));
    const worker = workerScriptPath();
    const stale = !existsSync(worker) || SOURCES.some((s) => statSync(s).mtimeMs > statSync(worker).mtimeMs);
    // Other in-progress files may not compile; tsc still emits ours, so the exit status is ignored.
    if (stale) spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore' });
    expect(existsSync(worker), `${worker} missing: run npm run build`).toBe(true);
  }, 120_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  let repos = 0;
  return {
    tmp,
    scriptPath,
    makeRepo() {
      const dir = join(tmp, `repo-${++repos}`);
      mkdirSync(dir);
      gitSync(dir, ['init', '-q', '-b', 'main']);
      gitSync(dir, ['config', 'commit.gpgsign', 'false']);
      gitSync(dir, ['commit', '-q', '--allow-empty', '-m', 'init']);
      return dir;
    },
    run(task, cwd, extra = [], scriptFile = scriptPath) {
      return spawnSync(process.execPath, [workerScriptPath(), '--task', task, '--script', scriptFile, '--cwd', cwd, ...extra], { encoding: 'utf8', timeout: 30_000 });
    },
  };
}

export const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
