import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import {
  defaultAnswers,
  parseBackend,
  parseBranch,
  parseBranchPrefix,
  parseChecks,
  parseSetup,
  formatSetup,
  parseHosts,
  parseName,
  parseRepo,
  parseRoadmapPath,
  parseTierName,
  parseUsd,
  parseWorkers,
  ROLES,
  type InitAnswers,
  type Parsed,
} from '../../init/answers.js';
import { CONFIG_FILE, existingConfigs, scaffold } from '../../init/scaffold.js';
import { runWizard } from '../../init/wizard.js';
import { color, output, type GlobalOptions } from '../context.js';

export interface InitFlags extends GlobalOptions {
  yes?: boolean;
  force?: boolean;
  name?: string;
  repo?: string;
  mainBranch?: string;
  branchPrefix?: string;
  roadmap?: string;
  perTaskUsd?: string;
  dailySoftUsd?: string;
  dailyHardUsd?: string;
  planTier?: string;
  maxWorkers?: string;
  hosts?: string;
  agents?: string;
  planner?: string;
  worker?: string;
  critic?: string;
  checks?: string;
  setup?: string;
}

function flag<T>(name: string, raw: string | undefined, parse: (s: string) => Parsed<T>): T | undefined {
  if (raw === undefined) return undefined;
  const r = parse(raw);
  if (!r.ok) throw new UsageError(`--${name}: expected ${r.expected}, got ${JSON.stringify(raw)}; nothing was written.`, { fix: 'See `oxi init --help` and docs/getting-started.md.' });
  return r.value;
}

/** The defaults read from the directory, overridden by every flag given (each validated). */
export function answersFromFlags(dir: string, f: InitFlags): InitAnswers {
  const a = defaultAnswers(dir);
  const all = flag('agents', f.agents, parseBackend);
  const out: InitAnswers = {
    ...a,
    name: flag('name', f.name, parseName) ?? a.name,
    repo: flag('repo', f.repo, parseRepo) ?? a.repo,
    mainBranch: flag('main-branch', f.mainBranch, parseBranch) ?? a.mainBranch,
    branchPrefix: flag('branch-prefix', f.branchPrefix, parseBranchPrefix) ?? a.branchPrefix,
    roadmap: flag('roadmap', f.roadmap, parseRoadmapPath) ?? a.roadmap,
    budget: {
      perTaskUsd: flag('per-task-usd', f.perTaskUsd, parseUsd) ?? a.budget.perTaskUsd,
      dailySoftUsd: flag('daily-soft-usd', f.dailySoftUsd, parseUsd) ?? a.budget.dailySoftUsd,
      dailyHardUsd: flag('daily-hard-usd', f.dailyHardUsd, parseUsd) ?? a.budget.dailyHardUsd,
    },
    planTier: {
      name: flag('plan-tier', f.planTier, parseTierName) ?? a.planTier.name,
      maxWorkers: flag('max-workers', f.maxWorkers, parseWorkers) ?? a.planTier.maxWorkers,
    },
    hosts: flag('hosts', f.hosts, parseHosts) ?? a.hosts,
    agents: { ...a.agents },
    checks: flag('checks', f.checks, parseChecks) ?? a.checks,
    setup: f.setup === undefined ? a.setup : flag('setup', f.setup, (s) => parseSetup(s, a.setup && formatSetup(a.setup) === s.trim() ? a.setup.cacheKey : []))!,
  };
  for (const role of ROLES) out.agents[role] = flag(role, f[role], parseBackend) ?? all ?? a.agents[role];
  const { perTaskUsd, dailySoftUsd, dailyHardUsd } = out.budget;
  if (dailySoftUsd > dailyHardUsd)
    throw new UsageError(`--daily-soft-usd: expected at most the hard cap ($${dailyHardUsd}), got $${dailySoftUsd}; nothing was written.`, { fix: 'The soft cap stops new tasks, the hard cap stops every new session: soft ≤ hard.' });
  if (perTaskUsd > dailyHardUsd)
    throw new UsageError(`--per-task-usd: expected at most the daily hard cap ($${dailyHardUsd}), got $${perTaskUsd}; nothing was written.`);
  return out;
}

export async function initCommand(global: InitFlags, dirArg: string | undefined): Promise<number> {
  const dir = resolve(dirArg ?? '.');
  const progress = (line: string) => {
    if (!global.json) process.stderr.write(`${color.dim('oxi init:')} ${line}\n`);
  };
  // Refuse early, before any question is asked.
  const existing = existingConfigs(dir);
  if (existing.length && !global.force)
    throw new UsageError(`oxi init: expected no adapter config in ${dir}, found ${existing.join(', ')}; nothing was written.`, {
      fix: 'Edit the existing config, or re-run with --force to replace it.',
    });
  let answers = answersFromFlags(dir, global);
  if (!global.yes) {
    if (!process.stdin.isTTY)
      throw new UsageError('oxi init: expected an interactive terminal for the wizard, got no TTY on stdin.', {
        fix: 'Pass --yes with flags (oxi init --yes --name widgets --repo acme/widgets …; see oxi init --help).',
      });
    answers = await runWizard(answers, { log: (line) => process.stdout.write(`${line}\n`) });
  }
  const result = await scaffold(dir, answers, { force: global.force, progress });
  const next = [
    result.roadmap.items ? `oxi roadmap                  # the ${result.roadmap.items} items oxi will work on` : `edit ${result.roadmap.path}   # add your first items`,
    'oxi doctor                   # checks git, agents, tokens, hosts',
    'oxi run                      # start the daemon (or: oxi service systemd)',
  ];
  output(global, { ok: true, ...result, answers }, () =>
    [
      `${color.green('ok')}: ${CONFIG_FILE} loads and the roadmap parses (${result.roadmap.items} item${result.roadmap.items === 1 ? '' : 's'})`,
      ...result.roadmap.problems.map((p) => `  ${result.roadmap.path}:${p.line}: ${p.severity}: ${p.message}`),
      'next:',
      ...next.map((n) => `  ${n}`),
    ].join('\n'),
  );
  return 0;
}
