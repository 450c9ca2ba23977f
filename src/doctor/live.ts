/**
 * `oxi doctor --live`: one real, minimal call per configured agent backend that proves its credentials
 * work (the static checks only see that a key or a login file exists). Without `--live` each backend says
 * its credentials were not exercised, so "ok" is never mistaken for "proven".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeEnv } from '../../actors/agents/claude.js';
import type { Adapter } from '../config/schema.js';
import { agentEnv } from '../agents/env.js';
import type { CheckProvider, CheckResult, CommandResult, DoctorContext } from './types.js';

type Backend = 'claude' | 'codex';
const PROMPT = 'Reply with the single word: ok';

/** The backends the roles route to, each with the model of its first route (what the engine would run). */
export function agentBackends(adapter: Adapter): Array<{ backend: Backend; model?: string }> {
  const out = new Map<Backend, string | undefined>();
  for (const role of ['planner', 'worker', 'critic'] as const) {
    for (const route of [adapter.agents[role], ...adapter.agents[role].fallbacks]) {
      // acp: the static check already did its handshake; a live prompt is the agent's own business (docs/agents.md).
      if (route.backend === 'scripted' || route.backend === 'acp' || out.has(route.backend)) continue;
      out.set(route.backend, route.model);
    }
  }
  return [...out].map(([backend, model]) => ({ backend, ...(model ? { model } : {}) }));
}

/** One turn, no tools, no session kept, in an empty directory (no project instructions read: the fewest tokens). */
export function liveArgv(adapter: Adapter, backend: Backend, model?: string): string[] {
  if (backend === 'claude') {
    const argv = [...adapter.agents.claude.command, '-p', PROMPT, '--output-format', 'json', '--max-turns', '1', '--tools', '', '--no-session-persistence'];
    return model ? [...argv, '--model', model] : argv;
  }
  const argv = [...adapter.agents.codex.command, 'exec', '--json', '--skip-git-repo-check', '--sandbox', 'read-only', '-c', 'approval_policy="never"'];
  if (model) argv.push('-m', model);
  for (const override of adapter.agents.codex.config) argv.push('-c', override);
  return [...argv, '--', PROMPT];
}

const FIX: Record<Backend, { auth: string; other: string }> = {
  claude: {
    auth: 'The key or login was refused: set a valid ANTHROPIC_API_KEY (allowed in agents.env.allow), or run `claude` and log in again; then rerun `oxi doctor --live`.',
    other: 'Run the same call by hand (`claude -p hi`) with the agents\' environment to see the whole error.',
  },
  codex: {
    auth: 'The key or login was refused: set a valid OPENAI_API_KEY (allowed in agents.env.allow), or run `codex login`; then rerun `oxi doctor --live`.',
    other: 'Run the same call by hand (`codex exec hi`) with the agents\' environment to see the whole error.',
  },
};

/** What the one call proved: ok (credentials work), fail (refused, with the fix) or warn (the API could not say). */
export function judgeLive(backend: Backend, run: CommandResult): CheckResult {
  const id = `live:${backend}`;
  const said: Answer = backend === 'claude' ? claudeAnswer(run) : codexAnswer(run);
  if (said.ok) return { id, status: 'ok', detail: `${backend}: one real call answered${said.cost !== undefined ? ` (cost $${said.cost.toFixed(4)})` : ''}: credentials work` };
  const text = said.error ?? (run.error ?? `exit ${run.exitCode}: ${(run.stderr || run.stdout).trim().slice(0, 200)}`);
  const status = said.status ?? Number(/\b(401|403|429|5\d\d)\b/.exec(text)?.[1] ?? 0);
  if (status === 401 || status === 403 || /authenticat|unauthori[sz]ed|invalid.*(api|key)|log ?in/i.test(text))
    return { id, status: 'fail', detail: `${backend}: credentials refused${status ? ` (${status})` : ''}: ${text.slice(0, 200)}`, fix: FIX[backend].auth };
  if (status === 429 || status >= 500)
    return { id, status: 'warn', detail: `${backend}: the API answered ${status} (${text.slice(0, 160)}); the credentials were accepted or not reached, not proven`, fix: 'Rate limited or overloaded: rerun `oxi doctor --live` later.' };
  return { id, status: 'fail', detail: `${backend}: the live call failed: ${text.slice(0, 200)}`, fix: FIX[backend].other };
}

interface Answer { ok: boolean; cost?: number; status?: number; error?: string }

function claudeAnswer(run: CommandResult): Answer {
  const line = run.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  try {
    const r = JSON.parse(line ?? '') as { is_error?: boolean; result?: string; total_cost_usd?: number; api_error_status?: number };
    if (r.is_error === false && run.ok) return { ok: true, cost: r.total_cost_usd };
    return { ok: false, ...(r.api_error_status ? { status: r.api_error_status } : {}), error: String(r.result ?? 'is_error') };
  } catch {
    return { ok: false };
  }
}

function codexAnswer(run: CommandResult): Answer {
  let error: string | undefined;
  let completed = false;
  for (const line of run.stdout.split('\n')) {
    try {
      const e = JSON.parse(line) as { type?: string; message?: string; error?: { message?: string } };
      if (e.type === 'turn.completed') completed = true;
      if (e.type === 'turn.failed' || e.type === 'error') error = e.error?.message ?? e.message ?? error;
    } catch {
      /* not an event line */
    }
  }
  return completed && run.ok && !error ? { ok: true } : { ok: false, ...(error ? { error } : {}) };
}

export const liveAgentChecks: CheckProvider = {
  name: 'live',
  needsAdapter: true,
  async check(ctx) {
    const adapter = ctx.adapter!;
    const backends = agentBackends(adapter);
    if (!ctx.live)
      return backends.map(({ backend }) => ({ id: `live:${backend}`, status: 'skip', detail: `${backend}: credentials were not exercised (only their presence was checked); \`oxi doctor --live\` makes one real call` }));
    const results: CheckResult[] = [];
    for (const { backend, model } of backends) results.push(await liveCall(ctx, adapter, backend, model));
    return results;
  },
};

async function liveCall(ctx: DoctorContext, adapter: Adapter, backend: Backend, model?: string): Promise<CheckResult> {
  const env = agentEnv(adapter, ctx.env as NodeJS.ProcessEnv);
  const dir = mkdtempSync(join(tmpdir(), 'oxi-doctor-live-'));
  try {
    const run = await ctx.run(liveArgv(adapter, backend, model), { env: backend === 'claude' ? claudeEnv(env, 'default') : env, cwd: dir, timeoutMs: 120_000 });
    return judgeLive(backend, run);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
