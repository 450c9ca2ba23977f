/**
 * A stand-in CI for the fake GitHub that cannot be told the answer: it checks the pushed commit out of
 * the "GitHub" bare repository and runs the adapter's checks command on it, as a CI app would, and
 * reports the exit code as the conclusion and the output as the check run's `output.text`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { CiReport } from './fake-github.js';
import { gitSync } from './git-repo.js';

/** The tail of the log kept in the report: failures print last. */
const TEXT_CHARS = 20_000;

export interface CiRun {
  sha: string;
  outcome: 'success' | 'failure';
  output: string;
}

/** Runs `command` on `sha` of the bare repository `bare`; every run is appended to `runs`. */
export async function runChecksOnCommit(input: { bare: string; sha: string; command: readonly string[]; timeoutMs?: number; runs?: CiRun[] }): Promise<CiReport> {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-ci-'));
  const checkout = join(dir, 'checkout');
  try {
    gitSync(input.bare, ['worktree', 'add', '-q', '--detach', checkout, input.sha]);
    const [file, ...args] = input.command;
    // Only what a CI runner has: no variable of the test process leaks into the project's tests.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CI: 'true' };
    const run = await execa(file, args, { cwd: checkout, all: true, reject: false, stdin: 'ignore', env, extendEnv: false, timeout: input.timeoutMs ?? 120_000 });
    const outcome = run.exitCode === 0 ? 'success' : 'failure';
    const output = String(run.all ?? '');
    input.runs?.push({ sha: input.sha, outcome, output });
    const said = `${input.command.join(' ')} ${outcome === 'success' ? 'passed' : `failed (${run.timedOut ? 'timed out' : `exit ${run.exitCode ?? run.signal}`})`}`;
    return { outcome, title: said, summary: `${said} on ${input.sha.slice(0, 12)}`, text: output.slice(-TEXT_CHARS) };
  } finally {
    gitSync(input.bare, ['worktree', 'remove', '--force', checkout]);
    rmSync(dir, { recursive: true, force: true });
  }
}
