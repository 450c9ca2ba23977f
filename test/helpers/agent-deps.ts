/**
 * A real adapter, database, local host and agent router for agent tests: the same pieces the engine
 * wires (src/runtime/ports.ts), minus the engine.
 */
import { join, resolve } from 'node:path';
import { agentRouter } from '../../actors/agents/router.js';
import type { EffectDeps } from '../../actors/effects/deps.js';
import { LocalHost } from '../../actors/hosts/local-host.js';
import { systemClock } from '../../src/clock.js';
import type { Adapter } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/validate.js';
import { agentEnv } from '../../src/agents/env.js';
import { DispatchPool } from '../../src/dispatch/pool.js';
import { openDb, type Db } from '../../src/store/db.js';

export const FAKE_CLAUDE = resolve(import.meta.dirname, '..', 'fixtures', 'bin', 'fake-claude.mjs');
export const REAL_CLAUDE = resolve(import.meta.dirname, '..', '..', 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
export const REAL_CODEX = resolve(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'codex');

export interface AgentFixture {
  adapter: Adapter;
  db: Db;
  deps: EffectDeps;
  close(): void;
}

/** `config` is a raw adapter (what a user writes); `repo` and `state` are directories. */
export function agentFixture(repo: string, state: string, config: Record<string, unknown>): AgentFixture {
  // Roles the test leaves out take the route of one it names (the scripted default needs a script).
  const agents = { ...((config.agents as Record<string, unknown>) ?? {}) };
  const named = agents.worker ?? agents.planner ?? agents.critic;
  for (const role of ['planner', 'worker', 'critic']) agents[role] ??= named;
  const adapter = validateConfig({ name: 'agents-test', repo: { path: repo }, paths: { stateDir: state }, ...config, agents }, { configPath: join(state, 'oxi.config.json') });
  const db = openDb(adapter.paths.db);
  const env = agentEnv(adapter);
  const deps: EffectDeps = {
    db,
    clock: systemClock,
    adapter,
    pool: new DispatchPool({ clock: systemClock, planTierMax: 1, overlapDeferMs: 1000, openPrFiles: async () => [], budget: () => ({ exceeded: false, until: 0 }) }),
    forge: undefined as never,
    hosts: new Map([['local', new LocalHost('local')]]),
    agents: agentRouter({ adapter, env, db }),
    notifier: { notify: async () => undefined },
    workerStopMode: () => 'terminate',
    watchIntervalMs: 50,
  };
  return { adapter, db, deps, close: () => db.close() };
}

/** Inserts a task row the way the seeder does, so effects that read/stamp it work. */
export function seedTask(db: Db, id: string, now = Date.now()): void {
  db.prepare(
    `INSERT INTO tasks (id, repo, tier, title, description, status, seq, last_progress_at, created_at, updated_at) VALUES (?, 'agents-test', 0, ?, 'a test item', 'working', 0, ?, ?, ?)`,
  ).run(id, `Task ${id}`, now, now, now);
}

export const GIT_IDENTITY = { GIT_AUTHOR_NAME: 'agent', GIT_AUTHOR_EMAIL: 'agent@localhost', GIT_COMMITTER_NAME: 'agent', GIT_COMMITTER_EMAIL: 'agent@localhost' };

/** The env a user would give claude, pointed at our scripted Messages API (no retries: a 429 must surface at once). */
export function claudeTestEnv(url: string, home: string): Record<string, string> {
  return {
    HOME: home,
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: 'sk-ant-scripted',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    ...GIT_IDENTITY,
  };
}
