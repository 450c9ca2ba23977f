import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, scriptedWorkerBed } from '../../../helpers/scripted-worker.js';
import { scriptedBackend } from '../../../../actors/agents/scripted/backend.js';
import { workerScriptPath } from '../../../../actors/agents/scripted/paths.js';
import { scriptedPlan } from '../../../../actors/agents/scripted/roles.js';
import { loadScript, resolveTask, validateScript } from '../../../../actors/agents/scripted/script.js';
import { renderEvent } from '../../../../src/agents/render.js';
import { parseAgentStream } from '../../../../src/agents/stream.js';
import { ConfigError } from '../../../../src/errors.js';


const SCRIPT = {
  defaults: { costUsd: 0.05 },
  tasks: {
    red: {
      files: { 'src/double.js': 'export const double = (x) => x * 3;\n', 'test/double.test.js': '// the test\n' },
      commitMessage: 'feat: double',
      fixes: [
        { files: { 'src/double.js': 'export const double = (x) => x * 2;\n' }, feedbackIncludes: '9 !== 6' },
        { files: { 'src/double.js': 'export const double = (x) => x + x;\n', 'src/notes.md': 'second fix\n' }, commitMessage: 'fix: double, again', costUsd: 0.5 },
      ],
    },
    plain: { files: { 'a.txt': 'a\n' } },
  },
};
const bed = scriptedWorkerBed('scripted-fix', SCRIPT);
const { tmp, scriptPath, makeRepo } = bed;

function runWorker(task: string, cwd: string, extra: string[] = []) {
  const r = bed.run(task, cwd, extra);
  const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; message?: { content?: unknown } });
  return { status: r.status, stderr: r.stderr, events, terminal: parseAgentStream(r.stdout, 'scripted').terminal };
}

describe('script format: fix steps', () => {
  it('fix 0 is the task itself; fix N runs step N over the task and its defaults; past the last step, the last again', () => {
    const script = loadScript(scriptPath);
    expect(resolveTask(script, 'red', 0)).toEqual({
      files: SCRIPT.tasks.red.files, commit: true, behaviour: 'ok', delayMs: 0, costUsd: 0.05, commitMessage: 'feat: double',
    });
    expect(resolveTask(script, 'red', 1)).toEqual({
      files: SCRIPT.tasks.red.fixes[0].files, commit: true, behaviour: 'ok', delayMs: 0, costUsd: 0.05, commitMessage: 'feat: double (fix 1)', feedbackIncludes: '9 !== 6',
    });
    expect(resolveTask(script, 'red', 2)).toMatchObject({ files: SCRIPT.tasks.red.fixes[1].files, commitMessage: 'fix: double, again', costUsd: 0.5 });
    expect(resolveTask(script, 'red', 5)).toEqual(resolveTask(script, 'red', 2));
    expect(resolveTask(script, 'red', 2)).not.toHaveProperty('feedbackIncludes');
  });

  it('a task without fixes repeats its own files on a fix, as before', () => {
    const script = loadScript(scriptPath);
    expect(resolveTask(script, 'plain', 1)).toEqual(resolveTask(script, 'plain', 0));
    expect(resolveTask(script, 'plain', 1)?.commitMessage).toBe('oxi(plain): scripted change');
  });

  it('the plan covers the files of every fix step, so the critic accepts the fix', () => {
    const plan = JSON.parse(scriptedPlan({ taskId: 'red', title: 'Double', script: loadScript(scriptPath) }));
    expect(plan.files_touched).toEqual(['src/double.js', 'test/double.test.js', 'src/notes.md']);
  });

  it('rejects a malformed fix step, or a misspelt field, with a ConfigError naming the field and what came', () => {
    const cases: Array<[unknown, string]> = [
      [{ tasks: { a: { fixes: [] } } }, 'expected tasks.a.fixes to hold at least one fix step'],
      [{ tasks: { a: { fixes: { files: {} } } } }, 'expected tasks.a.fixes to be a list of fix steps, got {"files":{}}'],
      [{ tasks: { a: { fix: [{ files: {} }] } } }, 'expected tasks.a to have only the fields files, commit, behaviour, delayMs, costUsd, commitMessage, fixes (unknown: fix)'],
      [{ tasks: { a: { fixes: [{ files: { '/etc/passwd': 'x' } }] } } }, 'expected tasks.a.fixes[0].files key "/etc/passwd" to be a relative path inside the worktree'],
      [{ tasks: { a: { fixes: [{ feedbackIncludes: '' }] } } }, 'expected tasks.a.fixes[0].feedbackIncludes to be a non-empty string, got ""'],
      [{ tasks: { a: { fixes: [{ fixes: [] }] } } }, 'expected tasks.a.fixes[0] to have only the fields'],
      [{ tasks: { a: { fixes: [{ delayMs: 'soon' }] } } }, 'expected tasks.a.fixes[0].delayMs to be a number ≥ 0, got "soon"'],
      [{ tasks: {}, task: {} }, 'expected the script to have only the fields tasks, defaults (unknown: task)'],
    ];
    for (const [value, message] of cases) {
      let thrown: unknown;
      try {
        validateScript(value, 'x.json');
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(value)).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toContain(`Scripted-agent x.json: ${message}`);
      expect((thrown as ConfigError).fix).toContain('docs/scripted-agent.md');
    }
  });
});

describe('scripted worker on a fix (real subprocess)', () => {
  it('replays its prompt, writes the fix step on top of the first attempt, and commits it', () => {
    const repo = makeRepo();
    expect(runWorker('red', repo).terminal?.ok).toBe(true);
    const first = git(repo, 'rev-parse', 'HEAD');
    const prompt = 'Implement red.\nFeedback on the previous attempt:\nChecks failed:\n  9 !== 6\n';
    const fix = runWorker('red', repo, ['--fix', '1', `--prompt=${prompt}`]);
    expect(fix.status).toBe(0);
    expect(fix.terminal).toMatchObject({ ok: true, costUsd: 0.05 });
    expect(fix.events[0]).toMatchObject({ type: 'system', subtype: 'init' });
    expect(fix.events[1]).toMatchObject({ type: 'user', message: { role: 'user', content: prompt } });
    // `oxi tail` shows it as one line.
    expect(renderEvent(fix.events[1])).toBe('👤 Implement red. Feedback on the previous attempt: Checks failed: 9 !== 6');
    expect(readFileSync(join(repo, 'src/double.js'), 'utf8')).toBe('export const double = (x) => x * 2;\n');
    expect(git(repo, 'rev-parse', 'HEAD~1')).toBe(first);
    expect(git(repo, 'log', '-1', '--format=%s')).toBe('feat: double (fix 1)');
    expect(git(repo, 'show', '--name-only', '--format=', 'HEAD')).toBe('src/double.js');
  });

  it('a fix step whose feedback is missing from the prompt fails, writes nothing, and says what it expected', () => {
    const repo = makeRepo();
    const head = git(repo, 'rev-parse', 'HEAD');
    for (const extra of [['--fix', '1', '--prompt', 'Implement red.'], ['--fix', '1']]) {
      const run = runWorker('red', repo, extra);
      expect(run.status).toBe(1);
      expect(run.terminal).toMatchObject({ ok: false });
      expect(run.terminal?.error).toContain('fix 1 of red expected its prompt to contain "9 !== 6"');
      expect(existsSync(join(repo, 'src/double.js'))).toBe(false);
      expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
    }
  });

  it('rejects a bad --fix with usage and exit 2', () => {
    const r = spawnSync(process.execPath, [workerScriptPath(), '--task', 'red', '--script', scriptPath, '--cwd', tmp, '--fix', 'two'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--fix an integer ≥ 0');
  });

  it('the backend passes the fix number and the prompt (one argv word, even one starting with "-")', () => {
    const backend = scriptedBackend({ scriptPath, env: {}, sensitive: [] });
    const launch = (fix: number, prompt: string) => backend.workerLaunch({ taskId: 'red', attempt: 0, fix, prompt, cwd: tmp, facts: {} }).argv;
    expect(launch(0, 'Implement red.')).not.toContain('--fix');
    const argv = launch(2, '--not-an-option\nFeedback');
    expect(argv.slice(argv.indexOf('--fix'), argv.indexOf('--fix') + 2)).toEqual(['--fix', '2']);
    expect(argv.at(-1)).toBe('--prompt=--not-an-option\nFeedback');
    expect(argv).toContain('--attempt');
  });
});
