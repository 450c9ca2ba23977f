/**
 * A read-only git query through node's own child_process: the same hardened argv and scrubbed environment
 * as gitRun, without loading execa (about a fifth of a second at CLI start, more than the query itself).
 * For quick reads on a command's path (`oxi status`); anything that writes goes through gitRun.
 */
import { spawn } from 'node:child_process';
import { gitEnv, HARDENED_CONFIG, type GitRun } from './git.js';

/** Runs `git args` in cwd with stdin closed; resolves with its exit code and output, rejects when git cannot start. */
export function gitQuery(cwd: string, args: readonly string[]): Promise<GitRun> {
  return new Promise((done, fail) => {
    const child = spawn('git', [...HARDENED_CONFIG, ...args], { cwd, env: gitEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (code === null) fail(new Error(`git ${args[0] ?? ''} ended by ${signal ?? 'a signal'}`));
      else done({ exitCode: code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
