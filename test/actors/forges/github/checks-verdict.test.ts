import { describe, expect, it } from 'vitest';
import { checksVerdict, type CheckRun } from '../../../../actors/forges/github/checks-verdict.js';

const run = (name: string, conclusion: string | null, output?: CheckRun['output']): CheckRun => ({
  name, status: conclusion === null ? 'in_progress' : 'completed', conclusion, html_url: null, ...(output !== undefined ? { output } : {}),
});

describe('checksVerdict: what a red check run tells the worker', () => {
  it('puts a failed run’s output (title, summary, text) indented under its line', () => {
    const v = checksVerdict([], [
      run('lint', 'success', { title: 'lint passed', summary: 'no problems', text: null }),
      run('test', 'failure', { title: 'npm test failed', summary: '1 of 12 tests failed', text: 'not ok 3 - double\n  9 !== 6' }),
    ]);
    expect(v.state).toBe('failure');
    expect(v.failed).toEqual(['test']);
    expect(v.log).toBe(['check lint: success', 'check test: failure', '  npm test failed', '  1 of 12 tests failed', '  not ok 3 - double', '    9 !== 6'].join('\n'));
  });

  it('keeps the tail of a long output, says it was cut, and repeats no part', () => {
    const text = `${'noise\n'.repeat(2000)}AssertionError: 9 !== 6`;
    const v = checksVerdict([], [run('test', 'timed_out', { title: 'same', summary: 'same', text })]);
    const lines = v.log.split('\n');
    expect(lines[0]).toBe('check test: timed_out');
    expect(lines[1]).toMatch(/^ {2}… /);
    expect(lines.at(-1)).toBe('  AssertionError: 9 !== 6');
    expect(v.log.length).toBeLessThan(3200);
    expect(lines.filter((l) => l === '  same')).toHaveLength(0); // the title was cut with the head, and never doubled
  });

  it('a run without output, or with an empty one, is just its line (as before)', () => {
    for (const output of [undefined, null, { title: null, summary: '', text: '  ' }]) {
      expect(checksVerdict([], [run('test', 'failure', output)]).log).toBe('check test: failure');
    }
  });

  it('pending and green runs show no output', () => {
    const pending = checksVerdict([], [run('test', null, { title: 'running', summary: 'step 2 of 5', text: null })]);
    expect(pending).toMatchObject({ state: 'pending', log: 'check test: in_progress', running: ['test'] });
    expect(checksVerdict([{ context: 'ci/legacy', state: 'success' }], [run('test', 'success', { title: 'ok', summary: 'all good', text: 'log' })]).log)
      .toBe('status ci/legacy: success\ncheck test: success');
  });
});
