import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';

export const DEMO_AGENTS = ['scripted', 'claude', 'codex'] as const;
export type DemoAgent = (typeof DEMO_AGENTS)[number];

/** What each real CLI needs from the environment to authenticate (passed through the whitelist). */
const AUTH_ENV: Record<Exclude<DemoAgent, 'scripted'>, string[]> = {
  claude: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX'],
  codex: ['OPENAI_API_KEY', 'CODEX_HOME'],
};

export function parseDemoAgent(value: string | undefined): DemoAgent {
  const agent = value ?? 'scripted';
  if (!(DEMO_AGENTS as readonly string[]).includes(agent)) {
    throw new UsageError(`--agent: expected one of ${DEMO_AGENTS.join(', ')}, got "${agent}".`, { fix: 'Use --agent claude (needs `claude` on PATH and a login or ANTHROPIC_API_KEY).' });
  }
  return agent as DemoAgent;
}

/**
 * Points a fresh demo project's adapter at a real agent for all three roles: the same roadmap, now
 * planned, written and reviewed by Claude Code or Codex (with the user's own credentials).
 */
export function useRealAgent(configPath: string, agent: DemoAgent): void {
  if (agent === 'scripted') return;
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, any>;
  const route = { backend: agent };
  config.agents = {
    ...config.agents,
    planner: route,
    worker: route,
    critic: route,
    env: { allow: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'USER', ...AUTH_ENV[agent]] },
    timeouts: { wallMinutes: 20, stallMinutes: 5 },
    maxTurns: 30,
  };
  config.budget = { perTaskUsd: 1, dailySoftUsd: 3, dailyHardUsd: 5 };
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  // A one-repository demo keeps its adapter in the repository; with --repos it sits beside them, uncommitted.
  if (existsSync(join(dirname(configPath), '.git')))
    execFileSync('git', ['-c', 'user.name=oxi demo', '-c', 'user.email=demo@localhost', 'commit', '-q', '-am', `Run the demo with the ${agent} agent`], { cwd: dirname(configPath), stdio: 'pipe' });
}
