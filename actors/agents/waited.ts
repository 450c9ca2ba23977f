/**
 * Runs an agent CLI as a waited subprocess (planner, critic): argv form, stdin closed, whitelisted env,
 * its own process group, stdout streamed to a per-task NDJSON file. A wall-clock timeout and a stall
 * timeout (no *progress* event for N ms) terminate the whole group: SIGTERM, then SIGKILL after a grace.
 */
import { createWriteStream } from 'node:fs';
import { openPrivate } from '../../src/fs-private.js';
import { execa } from 'execa';
import { ActivityTracker } from '../../src/agents/activity.js';
import { NdjsonSplitter } from '../../src/agents/stream.js';

export interface WaitedRun {
  argv: readonly string[];
  env: Record<string, string>;
  cwd: string;
  /** Raw stream destination (kept for `oxi tail`). */
  streamFile: string;
  stderrFile: string;
  backend: string;
  wallMs: number;
  stallMs: number;
  graceMs?: number;
  /** Aborted: the run is not started, or its group is terminated and the run rejects with the reason. */
  signal?: AbortSignal;
}

export interface WaitedResult {
  exitCode?: number;
  signal?: string;
  /** Why oxi terminated it, if it did. */
  timedOut?: 'wall' | 'stall';
  stdout: string;
  stderrTail: string;
}

export async function runWaited(run: WaitedRun): Promise<WaitedResult> {
  run.signal?.throwIfAborted();
  const out = createWriteStream('', { fd: openPrivate(run.streamFile, 'w') });
  const err = createWriteStream('', { fd: openPrivate(run.stderrFile, 'w') });
  const child = execa(run.argv[0], run.argv.slice(1), {
    cwd: run.cwd,
    env: run.env,
    extendEnv: false,
    stdin: 'ignore',
    // Why: a process group of its own, so a timeout kills the agent's tool subprocesses too.
    detached: true,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
  });
  const splitter = new NdjsonSplitter();
  const tracker = new ActivityTracker(run.backend);
  const chunks: string[] = [];
  let stderrTail = '';
  let lastProgress = Date.now();
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    out.write(chunk);
    chunks.push(chunk);
    for (const event of splitter.push(chunk)) if (tracker.see(event)?.progress) lastProgress = Date.now();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    err.write(chunk);
    stderrTail = (stderrTail + chunk).slice(-4000);
  });

  const started = Date.now();
  let timedOut: WaitedResult['timedOut'];
  const onAbort = () => killGroup(child.pid, run.graceMs ?? 5000);
  run.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setInterval(() => {
    const now = Date.now();
    const reason = now - started > run.wallMs ? 'wall' : now - lastProgress > run.stallMs ? 'stall' : undefined;
    if (reason && !timedOut) {
      timedOut = reason;
      killGroup(child.pid, run.graceMs ?? 5000);
    }
  }, Math.max(20, Math.min(1000, Math.floor(Math.min(run.wallMs, run.stallMs) / 4))));
  try {
    const result = await child;
    run.signal?.throwIfAborted(); // terminated because nobody waits for the answer any more
    return {
      exitCode: result.exitCode ?? undefined,
      signal: result.signal ?? undefined,
      timedOut,
      stdout: chunks.join(''),
      stderrTail,
    };
  } finally {
    clearInterval(timer);
    run.signal?.removeEventListener('abort', onAbort);
    // The group may hold tool subprocesses that outlive the agent: terminate them too.
    killGroup(child.pid, run.graceMs ?? 5000);
    await Promise.all([new Promise((r) => out.end(r)), new Promise((r) => err.end(r))]);
  }
}

/** SIGTERM to the group, SIGKILL after `graceMs` if anything in it is still alive. */
export function killGroup(pid: number | undefined, graceMs: number): void {
  if (!pid) return;
  if (!signalGroup(pid, 'SIGTERM')) return;
  const later = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
  later.unref();
}

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // the group is gone
  }
}
