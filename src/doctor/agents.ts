/** Each agent CLI the adapter routes to: found on the agents' PATH, and logged in. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeAcpAgent } from '../../actors/agents/acp/probe.js';
import { agentEnv } from '../agents/env.js';
import type { CheckProvider, CheckResult, DoctorContext } from './types.js';

const INSTALL: Record<string, string> = {
  claude: 'npm install -g @anthropic-ai/claude-code',
  codex: 'npm install -g @openai/codex',
};

export const agentChecks: CheckProvider = {
  name: 'agents',
  needsAdapter: true,
  async check(ctx) {
    const adapter = ctx.adapter!;
    // The shadow route (agents.shadow) is checked too; preflight leaves it out, since a shadow must never hold the real work.
    const routes = [...(['planner', 'worker', 'critic'] as const).flatMap((r) => [adapter.agents[r], ...adapter.agents[r].fallbacks]), ...(adapter.agents.shadow ? [adapter.agents.shadow] : [])];
    const backends = [...new Set(routes.map((r) => r.backend))];
    const results: CheckResult[] = [];
    for (const backend of backends) {
      if (backend === 'scripted') {
        const script = adapter.agents.scripted.script;
        results.push(
          script && existsSync(script)
            ? { id: 'agent:scripted', status: 'ok', detail: `scripted agent: ${script}` }
            : { id: 'agent:scripted', status: 'fail', detail: `scripted agent: script ${script ?? '(not set)'} not found`, fix: 'Set agents.scripted.script to a JSON script (docs/scripted-agent.md), or route the roles to claude/codex.' },
        );
        continue;
      }
      if (backend === 'acp') {
        results.push(await acpCheck(ctx));
        continue;
      }
      results.push(...(await cliCheck(ctx, backend)));
    }
    return results;
  },
};

/** The ACP handshake with agents.acp.command, in the agents' environment (no session, no tokens). */
async function acpCheck(ctx: DoctorContext): Promise<CheckResult> {
  const adapter = ctx.adapter!;
  const command = adapter.agents.acp.command;
  const p = await probeAcpAgent(command, agentEnv(adapter, ctx.env as NodeJS.ProcessEnv), adapter.repo.path);
  if (!p.ok) {
    return { id: 'agent:acp', status: 'fail', detail: `acp agent ${JSON.stringify(command)}: ${p.error}`, fix: 'Set agents.acp.command to an agent that speaks ACP on stdio (e.g. ["gemini", "--experimental-acp"]) and make sure it runs with the agents\' environment (agents.env.allow).' };
  }
  const resume = p.loadSession ? 'can resume sessions (oxi say)' : 'cannot resume sessions: oxi say starts a new session with the message';
  const auth = p.authMethods?.length ? `; login methods: ${p.authMethods.join(', ')} (log in once outside oxi)` : '';
  return { id: 'agent:acp', status: p.loadSession ? 'ok' : 'warn', detail: `acp agent: ${p.agent} (protocol ${p.protocolVersion}), ${resume}${auth}` };
}

async function cliCheck(ctx: DoctorContext, backend: 'claude' | 'codex'): Promise<CheckResult[]> {
  const env = agentEnv(ctx.adapter!, ctx.env as NodeJS.ProcessEnv);
  // The agents' whitelisted environment: a CLI found only on the operator's PATH is not found by oxi.
  // The configured command (agents.<backend>.command), not whatever PATH has under that name.
  const command = ctx.adapter!.agents[backend].command;
  const version = await ctx.run([...command, '--version'], { env, timeoutMs: 20_000 });
  const results: CheckResult[] = [
    version.ok
      ? { id: `agent:${backend}`, status: 'ok', detail: `${backend} ${version.stdout.trim().split('\n')[0]}` }
      : {
          id: `agent:${backend}`,
          status: 'fail',
          detail: `expected agents.${backend}.command ${JSON.stringify(command)} to run with the agents' environment, got ${version.error ?? `exit ${version.exitCode}: ${version.stderr.trim().slice(0, 200)}`}`,
          fix: `${INSTALL[backend]}, or set agents.${backend}.command to the program's full path; if it is installed, make sure its directory is on the PATH oxi runs with (agents get only agents.env.allow).`,
        },
  ];
  results.push(backend === 'claude' ? claudeCredentials(ctx, env) : codexCredentials(ctx, env));
  return results;
}

function claudeCredentials(ctx: DoctorContext, env: Record<string, string>): CheckResult {
  const id = 'credentials:claude';
  for (const name of ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN']) {
    if (env[name]) return { id, status: 'ok', detail: `claude: $${name} is passed to agents` };
    if (ctx.env[name])
      return { id, status: 'fail', detail: `claude: $${name} is set but agents do not get it`, fix: `Add "${name}" to agents.env.allow in the adapter.` };
  }
  const file = join(env.HOME ?? ctx.home, '.claude', '.credentials.json');
  if (!existsSync(file))
    return { id, status: 'fail', detail: `claude: no API key and no login (${file} not found)`, fix: 'Run `claude` once and log in (on macOS the login may live in the Keychain: run `claude -p hi` to confirm), or set ANTHROPIC_API_KEY and allow it in agents.env.allow.' };
  try {
    const oauth = (JSON.parse(readFileSync(file, 'utf8')) as { claudeAiOauth?: { expiresAt?: number; refreshToken?: string } }).claudeAiOauth;
    if (!oauth) return { id, status: 'warn', detail: `claude: ${file} has no claudeAiOauth login`, fix: 'Run `claude` and log in again.' };
    // The CLI refreshes an expired access token itself when a refresh token is stored.
    if (oauth.refreshToken) return { id, status: 'ok', detail: 'claude: logged in (refreshable)' };
    if (typeof oauth.expiresAt === 'number' && oauth.expiresAt <= ctx.now())
      return { id, status: 'fail', detail: `claude: login expired at ${new Date(oauth.expiresAt).toISOString()}`, fix: 'Run `claude` and log in again.' };
    return { id, status: 'ok', detail: `claude: logged in${oauth.expiresAt ? ` until ${new Date(oauth.expiresAt).toISOString()}` : ''}` };
  } catch (error) {
    return { id, status: 'fail', detail: `claude: ${file} is unreadable: ${(error as Error).message}`, fix: 'Run `claude` and log in again.' };
  }
}

function codexCredentials(ctx: DoctorContext, env: Record<string, string>): CheckResult {
  const id = 'credentials:codex';
  if (env.OPENAI_API_KEY) return { id, status: 'ok', detail: 'codex: $OPENAI_API_KEY is passed to agents' };
  if (ctx.env.OPENAI_API_KEY) return { id, status: 'fail', detail: 'codex: $OPENAI_API_KEY is set but agents do not get it', fix: 'Add "OPENAI_API_KEY" to agents.env.allow in the adapter.' };
  const file = join(env.CODEX_HOME ?? join(env.HOME ?? ctx.home, '.codex'), 'auth.json');
  return existsSync(file)
    ? { id, status: 'ok', detail: `codex: logged in (${file})` }
    : { id, status: 'fail', detail: `codex: no API key and no login (${file} not found)`, fix: 'Run `codex login`, or set OPENAI_API_KEY and allow it in agents.env.allow.' };
}
