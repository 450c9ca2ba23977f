/**
 * The interactive side of `oxi init`: the nine questions, each pre-filled with the default
 * (or the flag given), validated by the same parsers as the flags, re-asked until valid.
 */
import { confirm, input, select } from '@inquirer/prompts';
import { UsageError } from '../errors.js';
import {
  BACKENDS,
  formatHosts,
  formatSetup,
  parseBranch,
  parseBranchPrefix,
  parseHosts,
  parseName,
  parseRepo,
  parseRoadmapPath,
  parseSetup,
  parseTierName,
  parseUsd,
  parseWorkers,
  ROLES,
  type Backend,
  type InitAnswers,
  type Parsed,
} from './answers.js';

/** inquirer's validate: true, or the message shown under the prompt. */
const check = <T>(parse: (s: string) => Parsed<T>, extra?: (v: T) => string | undefined) => (s: string) => {
  const r = parse(s);
  if (!r.ok) return `expected ${r.expected}`;
  return extra?.(r.value) ?? true;
};
const value = <T>(parse: (s: string) => Parsed<T>, s: string): T => {
  const r = parse(s);
  if (!r.ok) throw new Error(`unreachable: validated answer failed to parse: ${r.expected}`);
  return r.value;
};

const TIERS = [
  { value: 'pro', name: 'pro — a Pro / Plus subscription', workers: 1 },
  { value: 'max', name: 'max — a Max / Team subscription', workers: 4 },
  { value: 'api', name: 'api — pay per token with an API key', workers: 8 },
  { value: 'default', name: 'other', workers: 4 },
];

const BACKEND_CHOICES = BACKENDS.map((b) => ({
  value: b,
  name: b,
  description: b === 'claude' ? 'Claude Code CLI (claude -p)' : b === 'codex' ? 'Codex CLI (codex exec)' : 'deterministic stand-in: demos and tests only',
}));

export async function runWizard(initial: InitAnswers, io: { log: (line: string) => void }): Promise<InitAnswers> {
  try {
    io.log('oxi init: nine questions; Enter keeps the suggestion in brackets.\n');
    const name = value(parseName, await input({ message: '1/9 Project name', default: initial.name, validate: check(parseName) }));
    const repoText = await input({
      message: '2/9 Repository on GitHub (owner/name), or "local" for no forge',
      default: initial.repo.kind === 'github' ? `${initial.repo.owner}/${initial.repo.name}` : 'local',
      validate: check(parseRepo),
    });
    const mainBranch = value(parseBranch, await input({ message: '    Main branch (PRs merge into it)', default: initial.mainBranch, validate: check(parseBranch) }));
    const branchPrefix = value(parseBranchPrefix, await input({ message: '3/9 Branch prefix for task branches', default: initial.branchPrefix, validate: check(parseBranchPrefix) }));
    const roadmap = value(parseRoadmapPath, await input({ message: '4/9 Roadmap file (created if missing)', default: initial.roadmap, validate: check(parseRoadmapPath) }));

    io.log('5/9 Budget caps, in USD');
    const perTaskUsd = value(parseUsd, await input({ message: '    per task', default: String(initial.budget.perTaskUsd), validate: check(parseUsd) }));
    const dailyHardUsd = value(parseUsd, await input({
      message: '    per day, hard (no session starts past it)',
      default: String(Math.max(initial.budget.dailyHardUsd, perTaskUsd)),
      validate: check(parseUsd, (v) => (v < perTaskUsd ? `expected at least the per-task cap ($${perTaskUsd})` : undefined)),
    }));
    const dailySoftUsd = value(parseUsd, await input({
      message: '    per day, soft (no new task starts)',
      default: String(Math.min(initial.budget.dailySoftUsd, dailyHardUsd)),
      validate: check(parseUsd, (v) => (v > dailyHardUsd ? `expected at most the hard cap ($${dailyHardUsd})` : undefined)),
    }));

    const tier = await select({
      message: '6/9 Agent plan tier',
      choices: TIERS.map(({ value: v, name: n }) => ({ value: v, name: n })),
      default: TIERS.some((t) => t.value === initial.planTier.name) ? initial.planTier.name : 'default',
    });
    const tierName = tier === 'default' && initial.planTier.name !== 'default' ? initial.planTier.name : tier;
    const suggested = initial.planTier.name === tierName ? initial.planTier.maxWorkers : (TIERS.find((t) => t.value === tier)?.workers ?? 4);
    const maxWorkers = value(parseWorkers, await input({ message: '    Agents at once across all hosts (concurrency)', default: String(suggested), validate: check(parseWorkers) }));

    const hosts = value(parseHosts, await input({
      message: '7/9 Hosts: local[:workers] and/or name=user@address[:port]/clone/path[:workers], comma-separated',
      default: formatHosts(initial.hosts),
      validate: check(parseHosts),
    }));

    io.log('8/9 Agent backend per role');
    const agents = {} as Record<(typeof ROLES)[number], Backend>;
    for (const role of ROLES) agents[role] = await select({ message: `    ${role}`, choices: BACKEND_CHOICES, default: initial.agents[role] });

    const setupText = await input({
      message: `9/9 Setup command run in each new workspace before the worker (installs dependencies), or "none"${initial.setup ? ` (suggested from ${initial.setup.cacheKey.join(', ')})` : ''}`,
      default: formatSetup(initial.setup),
      validate: check((s) => parseSetup(s)),
    });
    // The suggestion keeps its cache key (the lockfile); a command typed by hand has none until the adapter names one.
    const setup = setupText.trim() === formatSetup(initial.setup) ? initial.setup : value((s) => parseSetup(s), setupText);

    const answers: InitAnswers = {
      ...initial,
      name,
      repo: value(parseRepo, repoText),
      mainBranch,
      branchPrefix,
      roadmap,
      budget: { perTaskUsd, dailySoftUsd, dailyHardUsd },
      planTier: { name: value(parseTierName, tierName), maxWorkers },
      hosts,
      agents,
      setup,
    };
    if (!(await confirm({ message: 'Write oxi.config.ts?', default: true }))) throw new UsageError('oxi init: not confirmed; nothing was written.');
    return answers;
  } catch (error) {
    if ((error as Error)?.name === 'ExitPromptError') throw new UsageError('oxi init: cancelled; nothing was written.');
    throw error;
  }
}
