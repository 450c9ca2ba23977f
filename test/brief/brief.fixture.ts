import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/validate.js';
import { openDb } from '../../src/store/db.js';

export const NOW = Date.UTC(2026, 0, 2, 12, 0);
const at = (iso: string) => Date.parse(iso);

/** A ledger as the engine writes it: a day with merges, an abandon, a reap, a kill and a flaky host. */
export function fixtureLedger() {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-brief-'));
  const configPath = join(dir, 'oxi.config.json');
  const raw = {
      name: 'widgets',
      notifications: [{ kind: 'webhook', urlEnv: 'OXI_TEST_HOOK' }],
      hosts: [
        { name: 'local', kind: 'local', maxWorkers: 2 },
        { name: 'build-1', kind: 'ssh', address: '10.0.0.5', user: 'ci', mainClone: '/srv/widgets', worktreesRoot: '/srv/wt' },
      ],
      budget: { perTaskUsd: 2, dailySoftUsd: 1, dailyHardUsd: 5 },
  };
  writeFileSync(configPath, JSON.stringify(raw, null, 2));
  const adapter = validateConfig(raw, { configPath });
  const db = openDb(adapter.paths.db);
  const task = db.prepare(
    `INSERT INTO tasks (id, repo, tier, title, status, pr, cost_usd, reason, seq, last_progress_at, created_at, updated_at) VALUES (?, 'widgets', 0, ?, ?, ?, ?, ?, ?, 0, 0, 0)`,
  );
  task.run('T0-101', 'Add sum', 'merged', 1, 1.2, null, 1);
  task.run('T0-102', 'Add mean', 'merged', 2, 0.8, null, 2);
  task.run('T0-103', 'Parse CSV', 'abandoned', 3, 0.5, 'critic rejected 3 times: the plan\'s tests are missing', 3);
  task.run('T0-104', 'Old work', 'merged', 4, 9, null, 4);
  const ev = db.prepare('INSERT INTO event (at, actor, kind, task, payload) VALUES (?, ?, ?, ?, ?)');
  const e = (iso: string, actor: string, kind: string, taskId: string | null, payload: object = {}) => ev.run(at(iso), actor, kind, taskId, JSON.stringify(payload));
  e('2025-12-31T10:00:00Z', 'task:T0-104', 'spend', 'T0-104', { usd: 9, role: 'worker' });
  e('2025-12-31T11:00:00Z', 'task:T0-104', 'task.merged', 'T0-104', { from: 'merging', event: 'xstate.done.actor.merge' });
  e('2026-01-01T20:00:00Z', 'task:T0-101', 'spend', 'T0-101', { usd: 1.2, role: 'worker' });
  e('2026-01-01T21:00:00Z', 'task:T0-101', 'task.merged', 'T0-101', { from: 'merging', event: 'xstate.done.actor.merge' });
  e('2026-01-02T01:00:00Z', 'task:T0-102', 'spend', 'T0-102', { usd: 0.8, role: 'worker' });
  e('2026-01-02T03:15:00Z', 'reaper', 'reaper.reaped', null, { task: 'T0-102', pid: 4242, host: 'local' });
  e('2026-01-02T04:00:00Z', 'host:build-1', 'host.unreachable', null, { from: 'connecting', event: 'xstate.error.actor.probeHost' });
  e('2026-01-02T05:00:00Z', 'engineState', 'engineState.killed', null, { from: 'running', event: 'engine.kill' });
  e('2026-01-02T05:30:00Z', 'engineState', 'engineState.running', null, { from: 'killed', event: 'engine.unkill' });
  e('2026-01-02T06:00:00Z', 'task:T0-102', 'auto_merge.noop_already_merged', 'T0-102', { pr: 2 });
  e('2026-01-02T06:00:00Z', 'task:T0-102', 'task.merged', 'T0-102', { from: 'merging', event: 'xstate.done.actor.merge' });
  e('2026-01-02T07:00:00Z', 'task:T0-103', 'spend', 'T0-103', { usd: 0.5, role: 'critic' });
  e('2026-01-02T07:30:00Z', 'task:T0-103', 'task.abandoned', 'T0-103', { from: 'rejected', event: 'xstate.done.actor.critic' });
  e('2026-01-02T08:00:00Z', 'host:build-1', 'host.unreachable', null, { from: 'connecting', event: 'xstate.error.actor.probeHost' });
  e('2026-01-02T09:00:00Z', 'pool', 'budget.hard_cap', 'T0-105', { task: 'T0-105' });
  e('2026-01-02T12:30:00Z', 'task:T0-105', 'spend', 'T0-105', { usd: 7 }); // after the window
  const snap = db.prepare(`INSERT INTO actor_snapshot (actor, machine, status, value, snapshot, seq, updated_at) VALUES (?, 'host', 'active', ?, ?, 1, 0)`);
  snap.run('host:local', JSON.stringify({ live: { available: 'ready' } }), JSON.stringify({ context: { inUse: 1, capacity: 2, lastError: null } }));
  snap.run('host:build-1', JSON.stringify({ live: 'unreachable' }), JSON.stringify({ context: { inUse: 0, capacity: 0, lastError: 'connect ECONNREFUSED 10.0.0.5:22' } }));
  return { dir, configPath, adapter, db };
}
