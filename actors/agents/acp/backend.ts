/**
 * The `acp` backend: any agent that speaks the Agent Client Protocol (`agents.acp.command`, e.g.
 * `gemini --experimental-acp`). oxi runs its own session program (./runner.ts) with the agent as its child, both
 * in the sandbox; the program writes the session in oxi's stream dialect, so a detached worker, its adoption after
 * an engine restart, the stall clock and `oxi tail` work as for claude. Cost: what the agent reports
 * (`usage_update`), else its tokens priced by agents.acp.rateCard.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';
import type { AgentPort, AgentRequest, WorkerLaunch } from '../../../src/agents/port.js';
import type { StreamTerminal } from '../../../src/agents/stream.js';
import type { Adapter } from '../../../src/config/schema.js';
import type { AgentOutcome } from '../../../src/ports.js';
import { commandDirs, READ_ONLY_TOOLS, runRoleSession, type CliBackendOptions } from '../claude.js';
import { codexCost, loadRateCard, type RateCard } from '../codex.js';
import { outcomeFromRun, outcomeFromStream } from '../outcome.js';
import type { RunnerSpec } from './runner.js';

export type AcpSettings = Adapter['agents']['acp'];

/** Absolute path of the compiled session program, from source (vitest) or from dist. */
export function runnerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const fromDist = basename(dirname(dirname(dirname(here)))) === 'dist';
  return fromDist ? join(here, 'runner.js') : join(here, '..', '..', '..', 'dist', 'actors', 'agents', 'acp', 'runner.js');
}

/** What the session program reads to run (oxi's compiled code, the SDK, package.json for ESM): bound read-only. */
export function runnerFiles(): string[] {
  const root = dirname(dirname(dirname(dirname(dirname(runnerPath())))));
  return [join(root, 'dist'), join(root, 'node_modules'), join(root, 'package.json')];
}

/** The argv oxi runs for one ACP session (docs/agents.md). */
export function acpArgv(spec: RunnerSpec, node = process.execPath): string[] {
  return [node, runnerPath(), `--spec=${JSON.stringify(spec)}`];
}

/** Plan files the worker may edit with writeScope `plan` (repo-relative). */
function planFiles(facts: Record<string, unknown>): string[] | undefined {
  const plan = facts.plan as { files_touched?: unknown } | undefined;
  return Array.isArray(plan?.files_touched) ? plan.files_touched.filter((f): f is string => typeof f === 'string') : undefined;
}

export function acpBackend(options: CliBackendOptions): AgentPort {
  const { adapter } = options;
  const settings = adapter.agents.acp;
  let card: RateCard | undefined;
  const ctx = (model?: string) => ({
    backend: 'acp' as const,
    ...(model ? { model } : {}),
    // The agent's own cost when it reports one; else its tokens at the rate card's prices.
    price: (t: StreamTerminal) => (t.costUsd > 0 ? t.costUsd : codexCost((card ??= loadRateCard(settings.rateCard)), model, t)),
  });
  const budget = (req: AgentRequest) => Math.max(0.01, req.maxBudgetUsd ?? adapter.budget.perTaskUsd);
  const worker = (request: AgentRequest, resume?: string): WorkerLaunch => {
    card ??= loadRateCard(settings.rateCard); // a bad rate card fails here, not after the work is done
    const files = settings.writeScope === 'plan' ? planFiles(request.facts) : undefined;
    const spec: RunnerSpec = {
      command: settings.command,
      cwd: request.cwd,
      prompt: request.prompt,
      ...(resume ? { resume } : {}),
      ...(request.model ? { model: request.model } : {}),
      maxBudgetUsd: budget(request),
      policy: { allowedTools: settings.allowedTools ?? adapter.agents.claude.allowedTools, cwd: request.cwd, writable: true, blocked: adapter.policy.scope.blocked, ...(files ? { planFiles: files } : {}) },
    };
    return { argv: acpArgv(spec), env: options.env, backend: 'acp', readOnly: [...runnerFiles(), ...commandDirs(['node', ...settings.command])], ...(request.model ? { model: request.model } : {}) };
  };

  return {
    async complete(role, request): Promise<AgentOutcome> {
      card ??= loadRateCard(settings.rateCard);
      const spec: RunnerSpec = {
        command: settings.command,
        cwd: request.cwd,
        prompt: request.prompt,
        ...(request.model ? { model: request.model } : {}),
        maxBudgetUsd: budget(request),
        policy: { allowedTools: READ_ONLY_TOOLS, cwd: request.cwd, writable: false, blocked: adapter.policy.scope.blocked },
      };
      const run = await runRoleSession(options, role, 'acp', acpArgv(spec), options.env, request, [...runnerFiles(), ...commandDirs(['node', ...settings.command])]);
      return outcomeFromRun(run, ctx(request.model));
    },
    workerLaunch(request): WorkerLaunch {
      return worker(request);
    },
    workerResume(request, launch): WorkerLaunch {
      return worker({ ...request, ...(request.model ?? launch.model ? { model: request.model ?? launch.model } : {}) }, request.sessionId);
    },
    parseWorkerLog(text, launch): AgentOutcome | undefined {
      return outcomeFromStream(text, ctx(launch?.model));
    },
  };
}
