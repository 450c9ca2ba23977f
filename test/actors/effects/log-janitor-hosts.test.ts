/**
 * Log retention on an SSH host (a real sshd on loopback): a finished task's stream files on the host
 * (`<worktreesRoot>/.oxi-logs/<namespace>/<task>`) and on the engine's machine go after logsKeepMs and not before,
 * a live task's stay, a shadow run's host is cleaned too, a link out on the host is refused (what it points at
 * survives), and a host out of reach is skipped without throwing (said once) and cleaned on a later tick.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepLogs } from '../../../actors/effects/log-janitor.js';
import { removeRemoteLogDirs } from '../../../actors/hosts/log-dirs.js';
import { namespace } from '../../../actors/hosts/places.js';
import { sshHostFromConfig } from '../../../actors/hosts/ssh/from-adapter.js';
import type { SshHost } from '../../../actors/hosts/ssh/ssh-host.js';
import type { LedgerNote } from '../../../machines/effects.js';
import { loadAdapter } from '../../../src/config/load.js';
import { validateConfig } from '../../../src/config/validate.js';
import type { Adapter, SshHostConfig } from '../../../src/config/schema.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { claimShadowPair } from '../../../src/store/shadow.js';
import { logsRemovedAt } from '../../../src/store/task-logs.js';
import { ingestItems } from '../../../src/store/tasks.js';
import { sampleProject } from '../../helpers/project.js';
import { sshHostEntry, startSshd, type TestSshd } from '../../helpers/sshd.js';

const DAY = 86_400_000;
let sshd: TestSshd;
let p: ReturnType<typeof sampleProject>;
let adapter: Adapter;
let db: Db;
let alpha: SshHost;
let work: string;
let root: string;
let next = 0;

beforeAll(async () => {
  sshd = await startSshd();
  work = join(sshd.dir, 'work');
  p = sampleProject({
    tasks: 20,
    config: (c) => {
      c.hosts = [
        { name: 'local', kind: 'local', maxWorkers: 1 },
        sshHostEntry('alpha', sshd, { mainClone: join(sshd.dir, 'clone'), worktreesRoot: work, connection: { commandTimeoutMs: 20_000 } }),
      ];
    },
  });
  adapter = await loadAdapter({ cwd: p.dir });
  root = join(work, '.oxi-logs', namespace({ adapter }));
  db = openDb(p.db);
  ingestItems(db, p.ids.map((id, seq) => ({ id, repo: 'demo', tier: 0, title: id, description: '', seq })), Date.now());
  alpha = sshHostFromConfig(adapter.hosts.find((h) => h.name === 'alpha') as SshHostConfig);
}, 60_000);

afterAll(async () => {
  await alpha?.close();
  db?.close();
  await sshd?.cleanup();
  p?.cleanup();
});

const sweep = (now = Date.now()) => sweepLogs({ db, adapter, now, hosts: new Map([['alpha', alpha]]) });
const kinds = (ledger: LedgerNote[]) => ledger.map((n) => n.kind);
const local = (id: string) => join(adapter.paths.logs, id);
const remote = (id: string) => join(root, id);

/** A task that ran on `host` with its streams there (and its agents' state on the engine's machine). */
function task(status: string, endedAgo: number, host = 'alpha'): string {
  const id = p.ids[next++];
  mkdirSync(local(id), { recursive: true });
  writeFileSync(join(local(id), 'worker-a0-f0.json'), '{}\n');
  mkdirSync(join(remote(id), 'shadow'), { recursive: true });
  for (const f of ['worker-a0-f0.ndjson', 'worker-a0-f0.stderr.log', 'setup-a0-f0.log', 'shadow/shadow-a0-f0.ndjson']) writeFileSync(join(remote(id), f), '{}\n');
  db.prepare(`UPDATE tasks SET host=?, status=?, updated_at=? WHERE id=?`).run(host, status, Date.now() - endedAgo + next, id);
  return id;
}

describe('log retention on SSH hosts', () => {
  it('removes a finished task\'s logs on the host and locally after logsKeepMs, not before; a live task\'s stay; a shadow run\'s host is cleaned too', async () => {
    const merged = task('merged', 15 * DAY);
    const recent = task('abandoned', 2 * DAY);
    const working = task('working', 30 * DAY);
    // The task ran on the engine's machine, its shadow run on alpha.
    const shadowed = task('merged', 15 * DAY, 'local');
    claimShadowPair(db, { task: shadowed, attempt: 0, fix: 0, startSha: 'a'.repeat(40), workspace: join(work, 'x'), host: 'alpha', realBackend: 'claude', realModel: null, shadowBackend: 'codex', shadowModel: null, at: Date.now() });
    db.prepare(`UPDATE shadow_pair SET shadow_status='done' WHERE task=?`).run(shadowed);

    const ledger = await sweep();
    expect(kinds(ledger)).toEqual(['janitor.logs_removed', 'janitor.logs_removed']);
    expect(ledger.find((n) => n.payload!.task === merged)!.payload!.removed).toEqual([
      { host: 'local', path: local(merged) },
      { host: 'alpha', path: remote(merged) },
    ]);
    expect(ledger.find((n) => n.payload!.task === shadowed)!.payload!.removed).toEqual([
      { host: 'local', path: local(shadowed) },
      { host: 'alpha', path: remote(shadowed) },
    ]);
    for (const id of [merged, shadowed]) {
      expect(existsSync(remote(id))).toBe(false);
      expect(existsSync(local(id))).toBe(false);
    }
    for (const id of [recent, working]) expect(existsSync(join(remote(id), 'worker-a0-f0.ndjson'))).toBe(true);
    // The namespace folder holding every task's logs stays.
    expect(existsSync(root)).toBe(true);
    expect(await sweep()).toEqual([]);
    // Past its time, the abandoned one goes too; the live one never.
    expect((await sweep(Date.now() + 13 * DAY)).map((n) => n.payload!.task)).toEqual([recent]);
    expect(existsSync(remote(recent))).toBe(false);
    expect(existsSync(join(remote(working), 'worker-a0-f0.ndjson'))).toBe(true);
  }, 60_000);

  it('several repositories: a task `repo/T1-x` has its logs removed locally (`<logs>/repo/T1-x`) and under the worktrees root its repository has on the host', async () => {
    const dir = join(p.dir, 'multi');
    for (const r of ['acme', 'tools']) mkdirSync(join(dir, r), { recursive: true });
    const own = join(sshd.dir, 'tools-work');
    const base = adapter.hosts.find((h) => h.name === 'alpha') as SshHostConfig;
    const multi = validateConfig({
      name: 'acme',
      repos: [{ name: 'acme', path: 'acme' }, { name: 'tools', path: 'tools' }],
      hosts: [
        { name: 'local', kind: 'local', maxWorkers: 1 },
        { name: 'alpha', kind: 'ssh', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHosts: sshd.knownHosts, maxWorkers: 1, worktreesRoot: base.worktreesRoot, repos: { tools: { mainClone: join(sshd.dir, 'clone'), worktreesRoot: own } }, connection: { commandTimeoutMs: 20_000 } },
      ],
    }, { configPath: join(dir, 'oxi.config.json') });
    const mdb = openDb(join(dir, 'oxi.db'));
    try {
      const id = 'tools/T1-x';
      ingestItems(mdb, [{ id, repo: 'tools', tier: 0, title: id, description: '', seq: 0 }], Date.now());
      mdb.prepare(`UPDATE tasks SET host='alpha', status='merged', updated_at=? WHERE id=?`).run(Date.now() - 20 * DAY, id);
      // Where the task's workers wrote: the engine's logs, and the host's worktrees root for that repository.
      const here = join(multi.paths.logs, 'tools', 'T1-x');
      const there = join(own, '.oxi-logs', namespace({ adapter: multi }), 'tools', 'T1-x');
      for (const d of [here, there]) {
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'worker-a0-f0.ndjson'), '{}\n');
      }
      const ledger = await sweepLogs({ db: mdb, adapter: multi, now: Date.now(), hosts: new Map([['alpha', alpha]]) });
      expect(ledger).toEqual([{ kind: 'janitor.logs_removed', payload: { task: id, status: 'merged', removed: [{ host: 'local', path: here }, { host: 'alpha', path: there }] } }]);
      expect(existsSync(here)).toBe(false);
      expect(existsSync(there)).toBe(false);
      expect(logsRemovedAt(mdb, id)).toBeDefined();
    } finally {
      mdb.close();
    }
  }, 60_000);

  it('never deletes through a link on the host: a task\'s log directory that is a link out is refused (once), what it points at survives', async () => {
    const outside = join(sshd.dir, 'precious');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'keep.txt'), 'precious');
    const id = p.ids[next++];
    symlinkSync(outside, remote(id));
    db.prepare(`UPDATE tasks SET host='alpha', status='merged', updated_at=? WHERE id=?`).run(Date.now() - 20 * DAY, id);
    const ledger = await sweep();
    expect(ledger).toEqual([{ kind: 'janitor.refused', payload: { task: id, status: 'merged', host: 'alpha', refused: [remote(id)], root } }]);
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('precious');
    expect(existsSync(remote(id))).toBe(true);
    expect(await sweep()).toEqual([]);
  }, 60_000);

  it('on the host, a logs root that is a link (an agent replaced its namespace folder) is refused: nothing it points at is deleted', async () => {
    const elsewhere = join(sshd.dir, 'elsewhere');
    mkdirSync(join(elsewhere, 'T-x'), { recursive: true });
    writeFileSync(join(elsewhere, 'T-x', 'keep.txt'), 'precious');
    const linkedRoot = join(work, '.oxi-logs', 'linked-ns');
    symlinkSync(elsewhere, linkedRoot);
    const [report] = await removeRemoteLogDirs(alpha, [{ root: linkedRoot, dir: join(linkedRoot, 'T-x') }], 20_000);
    expect(report).toEqual({ removed: [], gone: [], refused: [join(linkedRoot, 'T-x')], failed: [] });
    expect(readFileSync(join(elsewhere, 'T-x', 'keep.txt'), 'utf8')).toBe('precious');
  }, 60_000);

  it('a host out of reach: no throw, its task kept unmarked and said once; once the host answers, the next tick removes its logs', async () => {
    const id = task('merged', 15 * DAY);
    await sshd.stop();
    try {
      const first = await sweep();
      // What could go went (the engine's side) and is recorded; the host's side waits.
      expect(kinds(first)).toEqual(['janitor.host_unreachable', 'janitor.logs_removed']);
      expect(first[0].payload).toMatchObject({ host: 'alpha', logs: true });
      expect(first[1].payload).toEqual({ task: id, status: 'merged', removed: [{ host: 'local', path: local(id) }] });
      expect(existsSync(join(remote(id), 'worker-a0-f0.ndjson'))).toBe(true);
      expect(logsRemovedAt(db, id)).toBeUndefined();
      // Said once, not on every tick.
      expect(await sweep()).toEqual([]);
    } finally {
      await sshd.start();
    }
    alpha.redial();
    const after = await sweep();
    expect(after).toEqual([{ kind: 'janitor.logs_removed', payload: { task: id, status: 'merged', removed: [{ host: 'alpha', path: remote(id) }] } }]);
    expect(existsSync(remote(id))).toBe(false);
    expect(logsRemovedAt(db, id)).toBeDefined();
  }, 60_000);
});
