import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, scriptedWorkerBed } from '../../../helpers/scripted-worker.js';
import { workerScriptPath } from '../../../../actors/agents/scripted/paths.js';
import { loadScript, resolveTask, scriptedCritique, scriptedPlan } from '../../../../actors/agents/scripted/roles.js';
import { classifyExit, parseAgentStream } from '../../../../src/agents/stream.js';
import { ConfigError } from '../../../../src/errors.js';


const SCRIPT = {
  defaults: { costUsd: 0.05 },
  tasks: {
    ok: { files: { 'src/hello.ts': 'export const hello = 1;\n', 'docs/hello.md': '# hello\n' }, commitMessage: 'feat: hello' },
    slow: { behaviour: 'slow', delayMs: 1000, files: { 'slow.txt': 'slow\n' } },
    hang: { behaviour: 'hang' },
    crash: { behaviour: 'crash', files: { 'never.txt': 'x' } },
    uncommitted: { behaviour: 'uncommitted', files: { 'dirty.txt': 'dirty\n' } },
    nocommit: { commit: false, files: { 'left.txt': 'left\n' } },
    garbage: { behaviour: 'garbage' },
    flaky: { behaviour: 'fail_first', files: { 'flaky.txt': 'second time lucky\n' } },
  },
};
const bed = scriptedWorkerBed('scripted', SCRIPT);
const { tmp, scriptPath, makeRepo } = bed;

function runWorker(task: string, cwd: string, extra: string[] = [], script = scriptPath) {
  const result = bed.run(task, cwd, extra, script);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, summary: parseAgentStream(result.stdout, 'scripted') };
}

describe('scripted worker (real subprocess)', () => {
  it('ok: writes, commits and reports a claude-style success', () => {
    const repo = makeRepo();
    const run = runWorker('ok', repo);
    expect(run.status).toBe(0);
    expect(run.summary.terminal).toMatchObject({ ok: true, costUsd: 0.05 });
    expect(run.summary.terminal?.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.summary.terminal?.text).toContain('committed');
    const init = JSON.parse(run.stdout.split('\n')[0]) as Record<string, unknown>;
    expect(init).toMatchObject({ type: 'system', subtype: 'init', cwd: repo, model: 'scripted' });
    expect(git(repo, 'log', '-1', '--format=%s|%an|%ae')).toBe('feat: hello|oxi-agent|agent@localhost');
    expect(git(repo, 'show', '--name-only', '--format=', 'HEAD').split('\n').sort()).toEqual(['docs/hello.md', 'src/hello.ts']);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(readFileSync(join(repo, 'src/hello.ts'), 'utf8')).toBe('export const hello = 1;\n');
  });

  it('slow: emits progress roughly every 200 ms before the result', async () => {
    const repo = makeRepo();
    const child = spawn(process.execPath, [workerScriptPath(), '--task', 'slow', '--script', scriptPath, '--cwd', repo]);
    const arrivals: number[] = [];
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      arrivals.push(Date.now());
    });
    const started = Date.now();
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const progress = stdout.split('\n').filter((l) => l.includes('Working on slow'));
    expect(progress).toHaveLength(5);
    expect(arrivals.length).toBeGreaterThanOrEqual(5); // delivered over time, not in one burst
    expect(parseAgentStream(stdout, 'scripted').terminal?.ok).toBe(true);
    expect(git(repo, 'log', '-1', '--format=%s')).toBe('oxi(slow): scripted change');
  });

  it('hang: prints init, then nothing until killed', async () => {
    const repo = makeRepo();
    const child = spawn(process.execPath, [workerScriptPath(), '--task', 'hang', '--script', scriptPath, '--cwd', repo]);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('close', (code, signal) => done({ code, signal })));
    // Its init line is out (however long a loaded machine takes to start node), and it goes on running.
    await new Promise<void>((done, fail) => {
      const look = () => (stdout.includes('\n') ? done() : child.exitCode !== null ? fail(new Error(`exited ${child.exitCode} before its init line`)) : setTimeout(look, 20));
      look();
    });
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    const exit = await exited;
    expect(exit.signal).toBe('SIGTERM');
    expect(classifyExit({ exitCode: exit.code, signal: exit.signal })).toBe('timed_out');
    expect(parseAgentStream(stdout, 'scripted')).toEqual({ events: 1 });
  });

  it('crash: init, exit 1, no result, nothing written', () => {
    const repo = makeRepo();
    const run = runWorker('crash', repo);
    expect(run.status).toBe(1);
    expect(run.summary).toEqual({ events: 1 });
    expect(run.stderr).toContain('simulated crash');
    expect(existsSync(join(repo, 'never.txt'))).toBe(false);
  });

  it('uncommitted and commit:false: files written, HEAD unchanged, success reported', () => {
    for (const task of ['uncommitted', 'nocommit']) {
      const repo = makeRepo();
      const head = git(repo, 'rev-parse', 'HEAD');
      const run = runWorker(task, repo);
      expect(run.status).toBe(0);
      expect(run.summary.terminal?.ok).toBe(true);
      expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
      expect(git(repo, 'status', '--porcelain')).toMatch(/^\?\? (dirty|left)\.txt$/);
    }
  });

  it('garbage: only junk, exit 0, no events', () => {
    const run = runWorker('garbage', makeRepo());
    expect(run.status).toBe(0);
    expect(run.stdout.length).toBeGreaterThan(0);
    expect(run.summary).toEqual({ events: 0 });
  });

  it('fail_first: crashes on --attempt 1 (the default), succeeds on --attempt 2', () => {
    const repo = makeRepo();
    expect(runWorker('flaky', repo).status).toBe(1);
    expect(runWorker('flaky', repo, ['--attempt', '1']).summary.terminal).toBeUndefined();
    const second = runWorker('flaky', repo, ['--attempt', '2']);
    expect(second.status).toBe(0);
    expect(second.summary.terminal?.ok).toBe(true);
    expect(readFileSync(join(repo, 'flaky.txt'), 'utf8')).toBe('second time lucky\n');
  });

  it('an unknown task gives an is_error result and exit 1', () => {
    const run = runWorker('nope', makeRepo());
    expect(run.status).toBe(1);
    expect(run.summary.terminal).toMatchObject({ ok: false, kind: 'failed' });
    expect(run.summary.terminal?.error).toContain('task nope is not in the script');
  });

  it('a missing or malformed script gives an is_error result naming the file', () => {
    const repo = makeRepo();
    const missing = runWorker('ok', repo, [], join(tmp, 'absent.json'));
    expect(missing.status).toBe(1);
    expect(missing.summary.terminal?.error).toContain('absent.json could not be read');
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"tasks": ');
    const malformed = runWorker('ok', repo, [], bad);
    expect(malformed.status).toBe(1);
    expect(malformed.summary.terminal?.error).toContain('is not valid JSON');
  });

  it('bad arguments: usage on stderr, exit 2', () => {
    const result = spawnSync(process.execPath, [workerScriptPath(), '--task', 'ok'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage:');
  });
});

describe('script loading and roles', () => {
  it('loadScript validates with a clear ConfigError', () => {
    expect(() => loadScript(join(tmp, 'absent.json'))).toThrow(ConfigError);
    const cases: Array<[unknown, string]> = [
      [[], 'a JSON object at the top level'],
      [{}, '"tasks" to be an object'],
      [{ tasks: { a: { files: { 'x.ts': 1 } } } }, 'tasks.a.files["x.ts"] to be a string'],
      [{ tasks: { a: { files: { '../x.ts': '' } } } }, 'relative path inside the worktree'],
      [{ tasks: { a: { behaviour: 'explode' } } }, 'tasks.a.behaviour to be one of'],
      [{ tasks: {}, defaults: { delayMs: -1 } }, 'defaults.delayMs'],
    ];
    for (const [value, message] of cases) {
      const file = join(tmp, 'case.json');
      writeFileSync(file, JSON.stringify(value));
      expect(() => loadScript(file)).toThrow(message);
    }
  });

  it('resolveTask applies defaults field by field', () => {
    const script = loadScript(scriptPath);
    expect(resolveTask(script, 'ok')).toEqual({
      files: SCRIPT.tasks.ok.files, commit: true, behaviour: 'ok', delayMs: 0, costUsd: 0.05, commitMessage: 'feat: hello',
    });
    expect(resolveTask(script, 'slow')?.delayMs).toBe(1000);
    expect(resolveTask(script, 'absent')).toBeUndefined();
  });

  it('scriptedPlan lists the scripted files', () => {
    const script = loadScript(scriptPath);
    expect(JSON.parse(scriptedPlan({ taskId: 'ok', title: 'Say hello', description: '', script }))).toEqual({
      files_touched: ['src/hello.ts', 'docs/hello.md'], tests: [], dependencies: [], risk: 'low', summary: 'Say hello',
    });
    expect(JSON.parse(scriptedPlan({ taskId: 'absent', title: 'T', script })).files_touched).toEqual([]);
  });

  it('scriptedCritique approves a diff within the plan and rejects the rest', () => {
    const plan = scriptedPlan({ taskId: 'ok', title: 'Say hello', script: loadScript(scriptPath) });
    const verdict = (diff: string, changedFiles: string[], sensitive: string[] = ['.github/', 'secrets/']) =>
      JSON.parse(scriptedCritique({ plan, diff, changedFiles, sensitive })) as { verdict: string; reasons: string[] };
    expect(verdict('+export const hello = 1;', ['src/hello.ts', './docs/hello.md']).verdict).toBe('approve');
    expect(verdict('', [])).toMatchObject({ verdict: 'reject', reasons: ['the diff is empty: the worker changed nothing'] });
    expect(verdict('+x', ['src/other.ts']).reasons).toEqual(["src/other.ts is not in the plan's files_touched"]);
    const sensitive = verdict('+x', ['src/hello.ts'], ['src/']);
    expect(sensitive.verdict).toBe('reject');
    expect(sensitive.reasons[0]).toContain('sensitive path src/');
    // The plan may also be passed as an object.
    expect(JSON.parse(scriptedCritique({ plan: { files_touched: ['a'] }, diff: '+a', changedFiles: ['a'], sensitive: [] })).verdict).toBe('approve');
  });
});
