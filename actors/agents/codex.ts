/**
 * The `codex` backend: `codex exec --json` (codex-cli 0.169). Facts it is built on: approval is set with
 * `-c approval_policy=…` (`-a` after `exec` is "unexpected argument"); writes need `--sandbox workspace-write`;
 * codex reports tokens only, so cost comes from a rate card; stdin must be closed or codex waits forever.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { AgentPort, AgentRequest, WorkerLaunch } from '../../src/agents/port.js';
import type { StreamTerminal } from '../../src/agents/stream.js';
import type { Adapter } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import type { AgentOutcome, HostTransport } from '../../src/ports.js';
import { codexSessionsDir, hostSessionFiles, localSessionFiles, waitForSessionUsage, type SessionFiles } from './codex-session.js';
import { commandDirs, runRoleSession, type CliBackendOptions } from './claude.js';
import { outcomeFromRun, outcomeFromStream } from './outcome.js';

export type CodexSettings = Adapter['agents']['codex'];

export interface CodexArgvInput {
  prompt: string;
  model?: string;
  sandbox: string;
  approvalPolicy: string;
  settings: Pick<CodexSettings, 'command' | 'config'>;
  /** Resume this thread (`codex exec … resume <thread_id> <prompt>`, same thread id) instead of starting one. */
  resumeThread?: string;
}

/** The exact argv oxi runs (docs/agents.md lists it). The prompt is last, after `--`. */
export function codexArgv(input: CodexArgvInput): string[] {
  const argv = [...input.settings.command, 'exec', '--json', '--sandbox', input.sandbox, '-c', `approval_policy="${input.approvalPolicy}"`];
  if (input.model) argv.push('-m', input.model);
  for (const override of input.settings.config) argv.push('-c', override);
  if (input.resumeThread) argv.push('resume', input.resumeThread);
  argv.push('--', input.prompt);
  return argv;
}

const price = z.strictObject({ input: z.number().min(0), cachedInput: z.number().min(0).optional(), output: z.number().min(0) });
const rateCardSchema = z.record(z.string().min(1), price);
export type RateCard = z.infer<typeof rateCardSchema>;

/** USD per million tokens by model; `*` is the fallback entry. */
export function loadRateCard(path: string | undefined, field = 'agents.codex.rateCard'): RateCard {
  if (!path) return {};
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`${field}: expected a readable JSON file at ${path}, got ${(cause as Error).message}.`, {
      fix: 'Write it as {"gpt-5-codex": {"input": 1.25, "cachedInput": 0.125, "output": 10}} (USD per million tokens).',
      cause,
    });
  }
  const parsed = rateCardSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(`${field} ${path}: expected {"<model>": {"input": n, "cachedInput"?: n, "output": n}}, got: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}.`, {
      fix: 'Prices are USD per million tokens; use "*" for a default entry.',
    });
  }
  return parsed.data;
}

/** The card's price for a model (`*` as the fallback); undefined: the card cannot price it. */
const rateOf = (card: RateCard, model: string | undefined) => (model !== undefined ? card[model] : undefined) ?? card['*'];

/** Cost of a codex run from its token usage; a model missing from the card (and no `*`) costs 0. */
export function codexCost(card: RateCard, model: string | undefined, t: Pick<StreamTerminal, 'inputTokens' | 'outputTokens'> & { cachedInputTokens?: number }): number {
  const rate = rateOf(card, model);
  if (!rate) return 0;
  const cached = t.cachedInputTokens ?? 0;
  const fresh = Math.max(0, (t.inputTokens ?? 0) - cached);
  const usd = (fresh * rate.input + cached * (rate.cachedInput ?? rate.input) + (t.outputTokens ?? 0) * rate.output) / 1_000_000;
  return Math.round(usd * 1_000_000) / 1_000_000;
}

/**
 * Completes a finished run's cost from codex's session file: reasoning tokens codex says are not in its output count
 * are priced at the output rate. Whatever cannot be priced is said in `usage.undercount`, never dropped silently.
 */
export async function settleCodexUsage(outcome: AgentOutcome, settings: Pick<CodexSettings, 'sessionsDir' | 'sessionWaitMs'>, card: RateCard, env: Record<string, string>, files: SessionFiles): Promise<AgentOutcome> {
  const rate = rateOf(card, outcome.model);
  const why: string[] = [];
  if (!rate) why.push(`the rate card has no price for model ${outcome.model ?? '(default)'} and no "*" entry`);
  const dir = codexSessionsDir(settings.sessionsDir, env);
  let usage = outcome.usage;
  if (!outcome.sessionId) why.push('the run reported no thread id, so its session file cannot be found');
  else if (!dir) why.push('the agent env has neither CODEX_HOME nor HOME, and agents.codex.sessionsDir is not set');
  else {
    const found = await waitForSessionUsage({ files, dir, threadId: outcome.sessionId, waitMs: settings.sessionWaitMs, failed: !outcome.ok, now: Date.now, sleep: (ms) => sleep(ms) });
    if (!found.usage) why.push(found.why ?? 'no session usage');
    else {
      const extra = found.usage.includesReasoning || !rate ? 0 : (found.usage.reasoningTokens * rate.output) / 1_000_000;
      usage = { ...usage, reasoningTokens: found.usage.reasoningTokens, costUsd: Math.round((usage.costUsd + extra) * 1_000_000) / 1_000_000 };
    }
  }
  return { ...outcome, usage: why.length ? { ...usage, undercount: why.join('; ') } : usage };
}

export function codexBackend(options: CliBackendOptions): AgentPort {
  const { adapter } = options;
  const settings = adapter.agents.codex;
  let card: RateCard | undefined;
  const ctx = (model?: string) => ({
    backend: 'codex' as const,
    ...(model ? { model } : {}),
    price: (t: StreamTerminal) => codexCost((card ??= loadRateCard(settings.rateCard)), model, t),
  });

  const argvFor = (request: AgentRequest, sandbox: string) =>
    codexArgv({ prompt: request.prompt, model: request.model, sandbox, approvalPolicy: settings.approvalPolicy, settings });

  return {
    async complete(role, request): Promise<AgentOutcome> {
      card ??= loadRateCard(settings.rateCard);
      const run = await runRoleSession(options, role, 'codex', argvFor(request, 'read-only'), options.env, request);
      const outcome = outcomeFromRun(run, ctx(request.model));
      // Planner and critic runs are on this machine, so their session files are too.
      return settleCodexUsage(outcome, settings, card, options.env, localSessionFiles);
    },
    workerLaunch(request): WorkerLaunch {
      card ??= loadRateCard(settings.rateCard); // a bad rate card fails here, not after the work is done
      return { argv: argvFor(request, settings.sandbox), env: options.env, backend: 'codex', readOnly: commandDirs(settings.command), ...(request.model ? { model: request.model } : {}) };
    },
    workerResume(request, launch): WorkerLaunch {
      const model = request.model ?? launch.model;
      const argv = codexArgv({ prompt: request.prompt, model, sandbox: settings.sandbox, approvalPolicy: settings.approvalPolicy, settings, resumeThread: request.sessionId });
      return { argv, env: options.env, backend: 'codex', readOnly: commandDirs(settings.command), ...(model ? { model } : {}) };
    },
    parseWorkerLog(text, launch): AgentOutcome | undefined {
      return outcomeFromStream(text, ctx(launch?.model));
    },
    settleUsage(outcome, _launch, host?: HostTransport): Promise<AgentOutcome> {
      return settleCodexUsage(outcome, settings, (card ??= loadRateCard(settings.rateCard)), options.env, host ? hostSessionFiles(host) : localSessionFiles);
    },
  };
}
