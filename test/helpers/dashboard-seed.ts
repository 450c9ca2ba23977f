/**
 * A project for the dashboard tests: a real git repo whose task branch changes four files (one
 * in scope, one sensitive, one protected, one blocked), a real SQLite ledger with a task that
 * went through a fix loop, a failed checks run, a critic verdict, spend per role, and an
 * agent stream file the test can append to.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/validate.js';
import { openDb } from '../../src/store/db.js';
import { appendEvent } from '../../src/store/ledger.js';
import { ingestItems } from '../../src/store/tasks.js';
import { gitSync, makeRepo, writeFiles } from './git-repo.js';

export const line = (e: unknown) => `${JSON.stringify(e)}\n`;

export function seedDashboardProject(now = Date.now()) {
  const repo = makeRepo();
  const adapter = validateConfig({ name: 'taskapi', repo: { path: repo.dir }, policy: { scope: { blocked: ['secrets/'], sensitive: ['docs/'] } } }, { configPath: join(repo.dir, 'oxi.config.json') });
  const baseSha = gitSync(repo.dir, ['rev-parse', 'HEAD']).trim();
  gitSync(repo.dir, ['checkout', '-q', '-b', 'oxi/T0-1']);
  writeFiles(repo.dir, {
    'src/value.js': "// the value\nconst label = 'two';\nmodule.exports = { value: 2, label };\n",
    'docs/notes.md': '# notes\n',
    '.github/workflows/ci.yml': 'on: push\n',
    'secrets/key.txt': 'nope\n',
  });
  gitSync(repo.dir, ['add', '-A']);
  gitSync(repo.dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'change']);
  const headSha = gitSync(repo.dir, ['rev-parse', 'HEAD']).trim();
  gitSync(repo.dir, ['checkout', '-q', 'main']);
  const db = openDb(adapter.paths.db);
  const T0 = now - 3_600_000;
  ingestItems(db, [
    { id: 'T0-1', repo: 'taskapi', tier: 0, title: 'Change the value', description: '', seq: 1 },
    { id: 'T0-2', repo: 'taskapi', tier: 0, title: 'Nothing shipped', description: '', seq: 2 },
    { id: 'T0-3', repo: 'taskapi', tier: 0, title: 'Add a very long title that has to wrap in a narrow window instead of pushing the table out of the viewport', description: '', seq: 3 },
  ], T0);
  db.prepare(`UPDATE tasks SET status='reviewing', host='local', pr=1, cost_usd=0.85, plan=? WHERE id='T0-1'`).run(JSON.stringify({ files_touched: ['src/value.js'], summary: 'bump the value', risk: 'low' }));
  db.prepare(`UPDATE tasks SET status='merged', updated_at=? WHERE id='T0-3'`).run(T0);
  db.prepare(`INSERT INTO actor_snapshot (actor, machine, status, value, snapshot, seq, updated_at) VALUES ('task:T0-1', 'task', 'active', ?, ?, 1, ?)`).run(
    JSON.stringify({ live: 'reviewing' }), JSON.stringify({ value: { live: 'reviewing' }, context: { id: 'T0-1', baseSha, headSha } }), T0,
  );
  // A root persisted before it was named: the page must call it engine.
  db.prepare(`INSERT INTO actor_snapshot (actor, machine, status, value, snapshot, seq, updated_at) VALUES ('x:0', 'engine', 'active', '"running"', '{"value":"running","context":{}}', 2, ?)`).run(T0);
  db.prepare(`INSERT INTO pull_request (task, branch, base, title, body, head_sha, state, checks, checks_log, created_at, updated_at) VALUES ('T0-1', 'oxi/T0-1', 'main', 'Change the value <b>', 'body', ?, 'open', 'failure', ?, ?, ?)`).run(
    headSha, `running 3 tests\nok 1 - a\nnot ok 2 - value is 2\n  expected 1\nok 3 - c\n${'{"a":"long json line that must wrap"}'.repeat(20)}\n`, T0, T0,
  );
  const at = (min: number) => T0 + min * 60_000;
  const step = (min: number, from: string, to: string, event = 'x') => appendEvent(db, { at: at(min), actor: 'task:T0-1', kind: `task.${to}`, task: 'T0-1', payload: { from, event } });
  step(1, 'new', 'planning');
  step(2, 'planning', 'waiting');
  step(3, 'waiting', 'provisioning');
  step(4, 'provisioning', 'working');
  step(10, 'working', 'shipping');
  step(11, 'shipping', 'checks');
  step(12, 'checks', 'rejected');
  step(12, 'rejected', 'waiting');
  step(13, 'waiting', 'provisioning');
  step(14, 'provisioning', 'working');
  step(20, 'working', 'reviewing');
  appendEvent(db, { at: at(2), actor: 'task:T0-1', kind: 'spend', task: 'T0-1', payload: { usd: 0.1, role: 'planner' } });
  appendEvent(db, { at: at(10), actor: 'task:T0-1', kind: 'spend', task: 'T0-1', payload: { usd: 0.5, role: 'worker' } });
  appendEvent(db, { at: at(14), actor: 'task:T0-1', kind: 'spend', task: 'T0-1', payload: { usd: 0.25, role: 'worker' } });
  appendEvent(db, { at: at(12), actor: 'task:T0-1', kind: 'checks.failure', task: 'T0-1', payload: { pr: 1, sha: headSha } });
  appendEvent(db, { at: at(21), actor: 'task:T0-1', kind: 'critic.reject', task: 'T0-1', payload: { verdict: 'reject', reasons: ['blocked paths touched: secrets/key.txt'], needsHuman: true, pr: 1, headSha } });
  appendEvent(db, { at: at(21), actor: 'x:0', kind: 'note.wide', payload: { detail: 'x'.repeat(600) } });
  const streamDir = join(adapter.paths.logs, 'T0-1');
  mkdirSync(streamDir, { recursive: true });
  const stream = join(streamDir, 'worker-a0-f0.ndjson');
  writeFileSync(stream, line({ type: 'system', subtype: 'init', session_id: 's1', model: 'm' }) + line({ type: 'assistant', message: { content: [{ type: 'text', text: 'Reading' }, { type: 'tool_use', id: 'tu1', name: 'Read', input: { file_path: 'src/value.js', api_key: 'sk-123' } }] } }));
  return { repo, adapter, db, baseSha, headSha, T0, stream, cleanup: () => (db.close(), repo.cleanup()) };
}
