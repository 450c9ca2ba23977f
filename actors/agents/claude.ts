/**
 * The `claude` backend: Claude Code in headless mode (`claude -p … --output-format stream-json --verbose`).
 * Facts it is built on (observed on claude-code 2.1.197): `--max-turns` is hidden but works and must always be
 * set (headless mode has no limit otherwise); stream-json needs `--verbose`; bypass modes are refused as root
 * unless IS_SANDBOX=1; a reused `--session-id` is an error, so every run gets a fresh one.
 */
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { AgentPort, AgentRequest, WorkerLaunch } from '../../src/agents/port.js';
import type { Adapter } from '../../src/config/schema.js';
import type { AgentOutcome } from '../../src/ports.js';
import { outcomeFromRun, outcomeFromStream } from './outcome.js';
import { roleFiles } from './role-files.js';
import { runWaited } from './waited.js';
import type { AgentSandbox } from '../../src/sandbox/port.js';
import { engineMachine, sandboxOf } from '../sandbox/sandbox.js';

export type ClaudeSettings = Adapter['agents']['claude'];

export interface ClaudeArgvInput {
  prompt: string;
  sessionId: string;
  /** Resume `sessionId` (`--resume`, same session id on the resumed run) instead of starting it. */
  resume?: boolean;
  maxTurns: number;
  maxBudgetUsd: number;
  model?: string;
  permissionMode: string;
  allowedTools: readonly string[];
  settings: Pick<ClaudeSettings, 'command' | 'extraArgs'>;
}

/** Read-only tools for the planner and the critic: they look, they never write. */
export const READ_ONLY_TOOLS = ['Read', 'Glob', 'Grep', 'Bash(git log *)', 'Bash(git diff *)', 'Bash(git show *)'];

/** The exact argv oxi runs (docs/agents.md lists it). */
export function claudeArgv(input: ClaudeArgvInput): string[] {
  const argv = [
    ...input.settings.command,
    '-p', input.prompt,
    '--output-format', 'stream-json',
    '--verbose',
    '--max-turns', String(input.maxTurns),
    '--max-budget-usd', formatUsd(input.maxBudgetUsd),
    input.resume ? '--resume' : '--session-id', input.sessionId,
    '--permission-mode', input.permissionMode,
  ];
  if (input.model) argv.push('--model', input.model);
  // Why: --allowedTools is variadic, so its values go last, before the adapter's own extra arguments.
  if (input.allowedTools.length) argv.push('--allowedTools', ...input.allowedTools);
  argv.push(...input.settings.extraArgs);
  return argv;
}

/** The env of a claude run: the whitelist, plus IS_SANDBOX=1 when a bypass mode must work as root. */
export function claudeEnv(env: Record<string, string>, permissionMode: string, uid = process.getuid?.() ?? -1): Record<string, string> {
  const out = { ...env };
  if (permissionMode === 'bypassPermissions' && uid === 0 && out.IS_SANDBOX === undefined) out.IS_SANDBOX = '1';
  return out;
}

export interface CliBackendOptions {
  adapter: Adapter;
  /** The whitelisted environment (src/agents/env.ts). */
  env: Record<string, string>;
  /** Where planner and critic runs are confined (default: this machine's sandbox from agents.sandbox). */
  sandbox?: AgentSandbox;
}

/** A planner or critic session to its end: confined read-only, its stream kept under the task's logs, its network released. */
export async function runRoleSession(
  options: CliBackendOptions,
  role: 'planner' | 'critic',
  backend: 'claude' | 'codex' | 'acp',
  argv: string[],
  env: Record<string, string>,
  request: { taskId: string; attempt: number; cwd: string; signal?: AbortSignal },
  extraReadOnly: string[] = [],
) {
  const { adapter } = options;
  const files = roleFiles(adapter.paths.logs, request.taskId, role, request.attempt, backend);
  const confined = await confineWaited(options, role, backend, argv, env, request.cwd, request.taskId, extraReadOnly);
  return runWaited({
    argv: confined.argv,
    env,
    cwd: request.cwd,
    streamFile: files.stream,
    stderrFile: files.stderr,
    backend,
    wallMs: adapter.agents.timeouts.wallMinutes * 60_000,
    stallMs: adapter.agents.timeouts.stallMinutes * 60_000,
    signal: request.signal,
  }).finally(confined.release);
}

/** A planner or critic run, confined read-only to its cwd (the main clone); dies with the engine. */
export async function confineWaited(options: CliBackendOptions, role: 'planner' | 'critic', backend: 'claude' | 'codex' | 'acp', argv: string[], env: Record<string, string>, cwd: string, taskId?: string, extraReadOnly: string[] = []): Promise<{ argv: string[]; release: () => Promise<void> }> {
  const sandbox = options.sandbox ?? sandboxOf(options.adapter, engineMachine);
  const readOnly = [...commandDirs(options.adapter.agents[backend].command), ...extraReadOnly];
  const wrapped = await sandbox.wrap({ role, backend, argv, env, workspace: cwd, writable: false, readOnly, waited: true, ...(taskId ? { taskId } : {}) });
  return { argv: wrapped.argv, release: async () => wrapped.network?.release() };
}

/** `command: ["node", "/opt/x/cli.js"]`: the dirs of the script words, which the sandbox must let the agent read. */
export function commandDirs(command: readonly string[]): string[] {
  return command.slice(1).filter((word) => word.startsWith('/')).map((word) => dirname(word));
}

export function claudeBackend(options: CliBackendOptions): AgentPort {
  const { adapter } = options;
  const settings = adapter.agents.claude;
  const ctx = (model?: string) => ({ backend: 'claude' as const, ...(model ? { model } : {}) });
  const budget = (req: AgentRequest) => Math.max(0.01, req.maxBudgetUsd ?? adapter.budget.perTaskUsd);

  return {
    async complete(role, request): Promise<AgentOutcome> {
      const argv = claudeArgv({
        prompt: request.prompt,
        sessionId: randomUUID(),
        maxTurns: adapter.agents.maxTurns,
        maxBudgetUsd: budget(request),
        model: request.model,
        permissionMode: 'default',
        allowedTools: READ_ONLY_TOOLS,
        settings,
      });
      const run = await runRoleSession(options, role, 'claude', argv, claudeEnv(options.env, 'default'), request);
      return outcomeFromRun(run, ctx(request.model));
    },
    workerLaunch(request): WorkerLaunch {
      const argv = claudeArgv({
        prompt: request.prompt,
        sessionId: randomUUID(),
        maxTurns: adapter.agents.maxTurns,
        maxBudgetUsd: budget(request),
        model: request.model,
        permissionMode: settings.permissionMode,
        allowedTools: settings.allowedTools,
        settings,
      });
      return { argv, env: claudeEnv(options.env, settings.permissionMode), backend: 'claude', readOnly: commandDirs(settings.command), ...(request.model ? { model: request.model } : {}) };
    },
    workerResume(request, launch): WorkerLaunch {
      const model = request.model ?? launch.model;
      const argv = claudeArgv({
        prompt: request.prompt,
        sessionId: request.sessionId,
        resume: true,
        maxTurns: adapter.agents.maxTurns,
        maxBudgetUsd: budget(request),
        model,
        permissionMode: settings.permissionMode,
        allowedTools: settings.allowedTools,
        settings,
      });
      return { argv, env: claudeEnv(options.env, settings.permissionMode), backend: 'claude', readOnly: commandDirs(settings.command), ...(model ? { model } : {}) };
    },
    parseWorkerLog(text, launch): AgentOutcome | undefined {
      return outcomeFromStream(text, ctx(launch?.model));
    },
  };
}

/** Dollars with at most 4 decimals (claude echoes the figure in its budget messages). */
function formatUsd(usd: number): string {
  return String(Math.round(usd * 10_000) / 10_000);
}
