/**
 * Runs the repository's checks command in a checkout: confined like an agent when a sandbox is given, in its
 * own process group (a timeout reaches the test runner's children), its log cut to its head and tail. The
 * local forge's checks gate runs it on a PR's checkout; a shadow run (agents.shadow) on its sibling workspace.
 */
import { execa } from 'execa';
import { ForgeError } from '../../src/errors.js';
import type { ChecksResult } from '../../src/ports.js';

/** Checks logs keep their head and (mostly) their tail: failures print last. */
const LOG_HEAD = 16 * 1024;
const LOG_TAIL = 48 * 1024;
const KILL_GRACE_MS = 2000;

export function truncateLog(log: string): string {
  if (log.length <= LOG_HEAD + LOG_TAIL) return log;
  const dropped = log.length - LOG_HEAD - LOG_TAIL;
  return `${log.slice(0, LOG_HEAD)}\n… [${dropped} characters cut] …\n${log.slice(-LOG_TAIL)}`;
}

export interface ChecksCommand {
  /** argv of the checks, e.g. ['npm', 'test']. */
  command: readonly string[];
  timeoutMs: number;
  /** The whole environment of the checks (already whitelisted); inherits oxi's when absent. */
  env?: Record<string, string>;
  /** Returns the confined argv (contract 3.7); absent, the checks run as given. */
  sandbox?: (argv: readonly string[], cwd: string, env: Record<string, string>) => Promise<string[]>;
}

export async function execChecksCommand(checks: ChecksCommand, worktree: string): Promise<{ state: ChecksResult['state']; log: string }> {
  const argv = checks.sandbox ? await checks.sandbox(checks.command, worktree, checks.env ?? {}) : checks.command;
  const [file, ...args] = argv;
  const timeoutMs = checks.timeoutMs;
  // Own process group, so a timeout (and cleanup) reaches the test runner's children too.
  const child = execa(file, args, {
    cwd: worktree,
    all: true,
    reject: false,
    stdin: 'ignore',
    detached: true,
    ...(checks.env ? { env: checks.env, extendEnv: false } : {}),
  });
  let timedOut = false;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      /* the group is already gone */
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
  }, timeoutMs);
  const result = await child;
  clearTimeout(timer);
  killGroup('SIGKILL'); // background processes the checks left behind
  if (result.exitCode === undefined && !timedOut && result.signal === undefined) {
    throw new ForgeError(`Expected to run the checks command ${JSON.stringify(checks.command)} in ${worktree}; it could not start: ${result.message}`, {
      fix: 'Install the program or fix the checks command in the configuration.',
    });
  }
  const output = String(result.all ?? '');
  if (timedOut) return { state: 'failure', log: truncateLog(`${output}\n[oxi] checks timed out after ${timeoutMs} ms and were killed.\n`) };
  const state = result.exitCode === 0 ? 'success' : 'failure';
  // 127 is a shell's "command not found": the checks command is broken, not the change.
  const notFound = result.exitCode === 127 ? ' (command not found: fix checks.command in the adapter; `oxi doctor` checks it)' : '';
  const tail = state === 'failure' ? `\n[oxi] checks failed: ${result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`}${notFound}.\n` : '';
  return { state, log: truncateLog(output + tail) };
}
