/**
 * The workspace setup (docs/workspaces.md): once after provisioning and before the worker's first session
 * (again on a fix attempt only when its key changed), in the task's workspace, on the task's host, in the
 * agents' sandbox with its own environment and the host's cache directory writable. A failure is an
 * environment error of the task (no attempt spent); the same setup failing again on a clean retry spends one.
 */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import type { LedgerNote } from '../../machines/effects.js';
import { recordActivity } from '../../src/store/agent-activity.js';
import { SetupFailedError } from '../../src/errors.js';
import { mkdirPrivate, writePrivate } from '../../src/fs-private.js';
import { setupEnv, setupOnlyNames } from '../../src/agents/phase-env.js';
import { stampProgress } from '../../src/store/tasks.js';
import type { HostTransport } from '../../src/ports.js';
import { clockSleep, hostOf, type EffectDeps } from '../effects/deps.js';
import { placeOf } from '../hosts/places.js';
import { sandboxOf } from '../sandbox/sandbox.js';
import { cacheDirOf, setupFiles, type SetupFiles } from './paths.js';
import { cleanWorkspace, copyWorkspaceFiles, firstErrorLine, pristine, setupKey } from './workspace-files.js';

export interface SetupInput {
  taskId: string;
  attempt: number;
  fix: number;
  host: string;
  worktree: string;
}

/** What ran last in a task: read to decide whether the next launch runs the setup again. */
interface SetupRecord {
  attempt: number;
  fix: number;
  key: string;
  ok: boolean;
}

export type SetupResult =
  | { ran: false; ledger: LedgerNote[] }
  | { ran: true; ok: true; ms: number; ledger: LedgerNote[] }
  /** The same setup failed on a clean retry: the worker step fails and spends an attempt. */
  | { ran: true; ok: false; error: string; ledger: LedgerNote[] };

/**
 * The wrapper around the (sandboxed) setup, outside the sandbox: its output and its exit code go to files the
 * sandbox cannot see. argv-form: the setup's own argv follows as "$@", never parsed by a shell.
 */
const WRAPPER = 'exec 2>&1; "$@"; code=$?; echo "$code" > "$0.tmp" && mv "$0.tmp" "$0"';

export async function ensureSetup(deps: EffectDeps, input: SetupInput, signal: AbortSignal): Promise<SetupResult> {
  const { adapter, clock } = deps;
  const setup = adapter.workspace.setup;
  if (!setup && adapter.workspace.files.length === 0) return { ran: false, ledger: [] };
  const host = hostOf(deps, input.host);
  const files = setupFiles(deps, input.taskId, input.host, input.attempt, input.fix);
  const key = await setupKey(adapter, host, input.worktree);
  const last = readRecord(files.record);
  const sameAttempt = last?.attempt === input.attempt;
  // Once per attempt; on a fix attempt again only when the key moved; after a failure, always (the clean retry).
  if (last && sameAttempt && last.ok && (last.fix === input.fix || last.key === key)) return { ran: false, ledger: [] };
  const clean = !!last && sameAttempt && !last.ok && last.key === key;
  // After the first run an agent may have been here: what the setup would execute from untracked or ignored
  // files (a planted node_modules/.bin, a .venv) goes, and only reviewed code gets the setup's own secrets.
  if (last) await cleanWorkspace(host, input.worktree);
  const withhold = setupOnlyNames(adapter).length > 0 && !(await pristine(host, input.worktree, placeOf(deps, input.host).mainClone, adapter.repo.mainBranch));
  const copied = await copyWorkspaceFiles(adapter, host, input.worktree);
  const note = (payload: Record<string, unknown>): LedgerNote => ({ kind: 'workspace.setup', payload: { task: input.taskId, attempt: input.attempt, fix: input.fix, host: input.host, key: key.slice(0, 12), clean, cleaned: !!last, copied, ...(withhold ? { withheld: setupOnlyNames(adapter) } : {}), ...payload } });
  if (!setup) {
    writeRecord(files.record, { attempt: input.attempt, fix: input.fix, key, ok: true });
    return { ran: true, ok: true, ms: 0, ledger: [note({ ok: true, ms: 0 })] };
  }
  recordActivity(deps.db, input.taskId, { kind: 'setup' }, clock.now());
  const startedAt = clock.now();
  const outcome = await runOnce(deps, host, input, files, withhold, signal);
  const ms = clock.now() - startedAt;
  writeRecord(files.record, { attempt: input.attempt, fix: input.fix, key, ok: outcome.ok });
  if (outcome.ok) return { ran: true, ok: true, ms, ledger: [note({ ok: true, ms })] };
  const reason = `workspace setup failed (${outcome.how}): ${outcome.line ?? 'no output'}`;
  const ledger = [note({ ok: false, ms, reason })];
  if (clean) return { ran: true, ok: false, error: `${reason} (again, on a clean retry; log: ${files.log})`, ledger };
  throw Object.assign(new SetupFailedError(`${reason}. The task waits and retries it on a clean workspace without spending an attempt (log: ${files.log}).`, { fix: 'Run the setup command by hand in a fresh clone, fix it or workspace.setup in the adapter; `oxi tail <task>` shows its output.' }), { ledger });
}

/** One run of the setup to its end (or its timeout); its log and exit code read back from the host. */
async function runOnce(deps: EffectDeps, host: HostTransport, input: SetupInput, files: SetupFiles, withhold: boolean, signal: AbortSignal): Promise<{ ok: boolean; how: string; line?: string }> {
  const { adapter, clock } = deps;
  const setup = adapter.workspace.setup!;
  const cacheDir = cacheDirOf(deps, input.host);
  // A setup still running from before an engine restart goes first: one setup at a time in a workspace.
  const stale = Number((await host.readFile(files.pid).catch(() => undefined))?.trim());
  if (Number.isInteger(stale) && stale > 1 && (await host.isAlive(stale))) await host.killGroup(stale);
  await prepareDirs(host, [cacheDir, files.log.slice(0, files.log.lastIndexOf('/'))]);
  const env = setupEnv(adapter, cacheDir, process.env, { withhold });
  const sandbox = deps.sandboxes?.get(input.host) ?? sandboxOf(adapter, host);
  const confined = await sandbox.wrap({ role: 'setup', backend: 'setup', argv: setup.command, env, workspace: input.worktree, writable: true, writablePaths: [cacheDir], waited: true, taskId: input.taskId });
  await host.writeFile(files.log, withhold ? `[oxi] the workspace holds changes not on ${adapter.repo.mainBranch}: the setup runs without its own variables (${setupOnlyNames(adapter).join(', ')})\n` : '');
  await host.exec(['rm', '-f', files.exit]);
  signal.throwIfAborted();
  const { pid } = await host.spawnDetached(['/bin/sh', '-c', WRAPPER, files.exit, ...confined.argv], { cwd: input.worktree, env, stdoutFile: files.log, stderrFile: `${files.log}.stderr`, pidFile: files.pid });
  const deadline = clock.now() + setup.timeoutMs;
  let stamped = 0;
  try {
    while (await host.isAlive(pid)) {
      if (signal.aborted) throw signal.reason ?? new Error('stopped');
      if (clock.now() > deadline) {
        await host.killGroup(pid, 2000);
        return { ok: false, how: `timed out after ${setup.timeoutMs} ms`, line: firstErrorLine((await host.readFile(files.log)) ?? '') };
      }
      // A live setup is progress (a quiet `npm ci` prints nothing for minutes): the reaper must not take it for a dead worker.
      if (clock.now() - stamped >= 1000) (stamped = clock.now()), stampProgress(deps.db, input.taskId, stamped);
      await clockSleep(clock, deps.watchIntervalMs ?? 200, signal);
    }
  } catch (error) {
    await host.killGroup(pid, 2000).catch(() => undefined);
    throw error;
  } finally {
    // The setup's network proxy (agents.network allowlist) ends with it.
    await confined.network?.release();
  }
  const code = Number((await host.readFile(files.exit))?.trim());
  const log = (await host.readFile(files.log)) ?? '';
  if (code === 0) return { ok: true, how: 'exit code 0' };
  return { ok: false, how: Number.isInteger(code) ? `exit code ${code}` : 'ended without an exit code', line: firstErrorLine(log) };
}

/** The cache and log directories, private to the engine's user (mkdir -p on an SSH host). */
async function prepareDirs(host: HostTransport, dirs: string[]): Promise<void> {
  if (!host.fileSize) for (const d of dirs) mkdirPrivate(d);
  else await host.exec(['mkdir', '-p', '-m', '700', ...dirs]);
}

function readRecord(path: string): SetupRecord | undefined {
  try {
    if (!existsSync(path) || !lstatSync(path).isFile()) return undefined;
    const r = JSON.parse(readFileSync(path, 'utf8')) as SetupRecord;
    return Number.isInteger(r.attempt) && typeof r.key === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

function writeRecord(path: string, record: SetupRecord): void {
  writePrivate(path, JSON.stringify(record));
}
