/**
 * The janitor on an SSH host (a real sshd on loopback, with its own clone and worktrees root) and for shadow runs:
 * a finished task's workspace and refs on the host go after keepMs and not before, only inside the host's worktrees
 * root; a host out of reach keeps its rows (noted once) and is cleaned once it answers; shadow workspaces, local and
 * on the host, go once their task ended.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReapScan } from '../../../actors/effects/background.js';
import type { EffectDeps } from '../../../actors/effects/deps.js';
import { REMOTE_ROWS_PER_TICK, sweepFinished } from '../../../actors/effects/janitor.js';
import { beingSwept, untilSwept } from '../../../actors/effects/janitor-sweeping.js';
import type { HostTransport } from '../../../src/ports.js';
import { namespace } from '../../../actors/hosts/places.js';
import { sshHostFromConfig } from '../../../actors/hosts/ssh/from-adapter.js';
import { ensureRemoteWorktree } from '../../../actors/hosts/ssh/remote-git.js';
import type { SshHost } from '../../../actors/hosts/ssh/ssh-host.js';
import { ensureWorkspace } from '../../../actors/hosts/workspace.js';
import type { LedgerNote } from '../../../machines/effects.js';
import { loadAdapter } from '../../../src/config/load.js';
import type { Adapter, SshHostConfig } from '../../../src/config/schema.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { claimShadowPair, getShadowPair, recordShadowSide } from '../../../src/store/shadow.js';
import { getTask, ingestItems } from '../../../src/store/tasks.js';
import { listEvents } from '../../../src/store/ledger.js';
import { sampleProject, waitFor } from '../../helpers/project.js';
import { sshHostEntry, startSshd, type TestSshd } from '../../helpers/sshd.js';

const HOUR = 3_600_000;
let sshd: TestSshd;
let p: ReturnType<typeof sampleProject>;
let adapter: Adapter;
let db: Db;
let alpha: SshHost;
let clone: string;
let work: string;
let ns: string;
let next = 0;

beforeAll(async () => {
  sshd = await startSshd();
  clone = join(sshd.dir, 'clone');
  work = join(sshd.dir, 'work');
  p = sampleProject({
    tasks: 40,
    config: (c) => {
      c.hosts = [
        { name: 'local', kind: 'local', maxWorkers: 1 },
        sshHostEntry('alpha', sshd, { mainClone: clone, worktreesRoot: work, connection: { commandTimeoutMs: 20_000 } }),
      ];
    },
  });
  execFileSync('git', ['clone', '-q', p.dir, clone]);
  adapter = await loadAdapter({ cwd: p.dir });
  ns = namespace({ adapter });
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

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const hasRef = (cwd: string, ref: string) => git(cwd, 'for-each-ref', '--format=%(refname)', ref) === ref;
const hosts = () => new Map([['alpha', alpha]]);
const sweep = (now = Date.now()) => sweepFinished({ db, adapter, now, hosts: hosts() });
const kinds = (ledger: LedgerNote[]) => ledger.map((n) => n.kind);

/**
 * A task on alpha with its workspace there, its head shipped into the clone's task ref and tracking branch. The
 * workspace is the standalone repository provisioning makes from the host's clone (made here without the SSH round
 * trips, which the shadow test below takes).
 */
async function remoteTask(status: string, endedAgo: number): Promise<{ id: string; ws: string; branch: string }> {
  const id = p.ids[next++];
  const branch = `oxi/${id.toLowerCase()}`;
  const ws = join(work, ns, id);
  const made = await ensureWorkspace({ mainClone: clone, path: ws, branch, taskId: id, baseSha: null, mainBranch: 'main' });
  writeFileSync(join(ws, 'work.txt'), 'the worker was here');
  git(clone, 'update-ref', `refs/oxi/tasks/${id}`, made.headSha);
  git(clone, 'update-ref', `refs/remotes/origin/${branch}`, made.headSha);
  db.prepare(`UPDATE tasks SET host='alpha', branch=?, worktree=?, status=?, updated_at=? WHERE id=?`).run(branch, ws, status, Date.now() - endedAgo + next, id);
  return { id, ws, branch };
}

describe('janitor on SSH hosts', () => {
  it('removes a finished task\'s workspace and refs on the host after keepMs, not before; an abandoned task keeps its task ref; the clone\'s branch and worktree list stay clean', async () => {
    const merged = await remoteTask('merged', 25 * HOUR);
    const abandoned = await remoteTask('abandoned', 25 * HOUR);
    const recent = await remoteTask('merged', 1 * HOUR);
    // A linked worktree an older oxi made in the host's clone: the clone forgets it too.
    const legacy = { id: p.ids[next++], ws: join(work, ns, 'legacy') };
    mkdirSync(join(work, ns), { recursive: true });
    git(clone, 'worktree', 'add', '-q', '-b', `oxi/${legacy.id.toLowerCase()}`, legacy.ws);
    db.prepare(`UPDATE tasks SET host='alpha', branch=?, worktree=?, status='merged', updated_at=? WHERE id=?`).run(`oxi/${legacy.id.toLowerCase()}`, legacy.ws, Date.now() - 25 * HOUR + next, legacy.id);

    const ledger = await sweep();
    expect(existsSync(merged.ws)).toBe(false);
    expect(hasRef(clone, `refs/oxi/tasks/${merged.id}`)).toBe(false);
    expect(hasRef(clone, `refs/remotes/origin/${merged.branch}`)).toBe(false);
    expect(existsSync(abandoned.ws)).toBe(false);
    expect(hasRef(clone, `refs/oxi/tasks/${abandoned.id}`)).toBe(true);
    expect(hasRef(clone, `refs/remotes/origin/${abandoned.branch}`)).toBe(false);
    // Not yet: ended an hour ago, kept for a day.
    expect(existsSync(join(recent.ws, 'work.txt'))).toBe(true);
    expect(hasRef(clone, `refs/oxi/tasks/${recent.id}`)).toBe(true);
    expect(existsSync(legacy.ws)).toBe(false);
    expect(hasRef(clone, `refs/heads/oxi/${legacy.id.toLowerCase()}`)).toBe(false);
    expect(git(clone, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree '))).toHaveLength(1);
    expect(ledger.filter((n) => n.kind === 'janitor.removed').map((n) => [n.payload!.task, n.payload!.host])).toEqual([
      [merged.id, 'alpha'], [abandoned.id, 'alpha'], [legacy.id, 'alpha'],
    ]);
    expect(ledger.find((n) => n.payload!.task === merged.id)!.payload!.removed).toEqual([merged.ws, `refs/remotes/origin/${merged.branch}`, `refs/oxi/tasks/${merged.id}`]);
    expect(getTask(db, merged.id)).toMatchObject({ worktree: null, branch: null });
    expect(getTask(db, recent.id)).toMatchObject({ worktree: recent.ws });
    expect(await sweep()).toEqual([]);
    // Past its keep time, the recent one goes too; the clone's checked-out branch never, even when a row names it.
    db.prepare(`UPDATE tasks SET branch='main', worktree=NULL, status='abandoned', updated_at=? WHERE id=?`).run(Date.now() - 25 * HOUR, merged.id);
    expect(kinds(await sweep(Date.now() + 24 * HOUR))).toEqual(['janitor.removed']);
    expect(existsSync(recent.ws)).toBe(false);
    expect(hasRef(clone, 'refs/heads/main')).toBe(true);
    expect(hasRef(clone, 'refs/remotes/origin/main')).toBe(true);
  }, 60_000);

  it('never deletes outside the host\'s worktrees root: a workspace that is a link out, a linked parent, a path climbing out, the root or a namespace folder', async () => {
    const outside = join(sshd.dir, 'precious');
    mkdirSync(join(outside, 'ws'), { recursive: true });
    writeFileSync(join(outside, 'keep.txt'), 'mine');
    writeFileSync(join(outside, 'ws', 'keep.txt'), 'mine too');
    mkdirSync(join(work, ns), { recursive: true });
    symlinkSync(outside, join(work, ns, 'link-out'));
    symlinkSync(outside, join(work, 'linked-parent'));
    // The engine's own machine keeps the same rule.
    mkdirSync(join(adapter.paths.worktreesRoot, ns), { recursive: true });
    symlinkSync(outside, join(adapter.paths.worktreesRoot, ns, 'link-out'));
    const rows = [join(work, ns, 'link-out'), join(work, 'linked-parent', 'ws'), `${work}/${ns}/../../precious`, work, join(work, ns), join(adapter.paths.worktreesRoot, ns, 'link-out')];
    const ids = rows.map((ws, i) => {
      const id = p.ids[next++];
      db.prepare(`UPDATE tasks SET host=?, branch=NULL, worktree=?, status='abandoned', updated_at=? WHERE id=?`).run(i < 5 ? 'alpha' : 'local', ws, Date.now() - 25 * HOUR + i, id);
      return id;
    });
    const ledger = await sweep();
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
    expect(existsSync(join(outside, 'ws', 'keep.txt'))).toBe(true);
    expect(existsSync(work)).toBe(true);
    expect(existsSync(join(work, ns))).toBe(true);
    // (The local row and the host's are settled side by side: in either order.)
    const byTask = new Map(ledger.map((n) => [n.payload!.task, n]));
    expect(ledger).toHaveLength(rows.length);
    ids.forEach((id, i) => expect(byTask.get(id)).toMatchObject({ kind: 'janitor.refused', payload: { host: i < 5 ? 'alpha' : 'local', refused: [rows[i]] } }));
    // Refused once and for all: the rows are not tried again.
    for (const id of ids) expect(getTask(db, id)!.worktree).toBeNull();
    expect(await sweep()).toEqual([]);
  }, 60_000);

  it('a task retried during the round trip: provisioning waits for the sweep, and the row the retry wrote is not forgotten', async () => {
    const task = await remoteTask('abandoned', 25 * HOUR);
    const retried = join(work, ns, `${task.id}-new`);
    const seen: { swept?: boolean; waited?: boolean; early?: boolean } = {};
    let provisioned: Promise<void> | undefined;
    // The host itself (a real sshd); while its round trip is under way, `oxi retry` and a new attempt that ends again.
    const during = Object.create(alpha) as HostTransport;
    during.exec = async (argv, options) => {
      seen.swept = beingSwept(db, task.id);
      db.prepare(`UPDATE tasks SET status='queued', updated_at=? WHERE id=?`).run(Date.now(), task.id);
      provisioned = untilSwept(db, task.id).then(() => void (seen.waited = true));
      db.prepare(`UPDATE tasks SET status='abandoned', worktree=?, updated_at=? WHERE id=?`).run(retried, Date.now() - 30 * HOUR, task.id);
      const done = await alpha.exec(argv, options);
      seen.early = seen.waited;
      return done;
    };
    const ledger = await sweepFinished({ db, adapter, now: Date.now(), hosts: new Map([['alpha', during]]) });
    expect(seen.swept).toBe(true);
    // Provisioning waited until the removal was over (it would reuse the very path otherwise), then went on.
    expect(seen.early).toBeUndefined();
    await provisioned;
    expect(seen.waited).toBe(true);
    expect(beingSwept(db, task.id)).toBe(false);
    expect(kinds(ledger)).toEqual(['janitor.removed']);
    // Abandoned, retried and abandoned again is not the row read: its new workspace and branch stay named.
    expect(getTask(db, task.id)).toMatchObject({ status: 'abandoned', worktree: retried, branch: task.branch });
  }, 60_000);

  it('a host out of reach: the sweep does not throw, keeps its rows and says so once; once the host answers, the next tick cleans', async () => {
    const t = await remoteTask('merged', 25 * HOUR);
    await sshd.stop();
    try {
      const first = await sweep();
      expect(kinds(first)).toEqual(['janitor.host_unreachable']);
      expect(first[0].payload).toMatchObject({ host: 'alpha' });
      expect(getTask(db, t.id)).toMatchObject({ worktree: t.ws, branch: t.branch });
      expect(existsSync(t.ws)).toBe(true);
      // Said once, not on every tick.
      expect(await sweep()).toEqual([]);
    } finally {
      await sshd.start();
    }
    // The host's probe redials after an outage (the pool's backoff is not the janitor's business).
    alpha.redial();
    const after = await sweep();
    expect(kinds(after)).toEqual(['janitor.removed']);
    expect(existsSync(t.ws)).toBe(false);
    expect(hasRef(clone, `refs/oxi/tasks/${t.id}`)).toBe(false);
    expect(getTask(db, t.id)).toMatchObject({ worktree: null, branch: null });
  }, 60_000);

  it('a removal that fails keeps its row for the next tick (said once); what went is recorded; the next tick finishes', async () => {
    const t = await remoteTask('merged', 25 * HOUR);
    // A ref git cannot delete now: its lock is held.
    const lock = join(clone, '.git', 'refs', 'oxi', 'tasks', `${t.id}.lock`);
    mkdirSync(join(clone, '.git', 'refs', 'oxi', 'tasks'), { recursive: true });
    writeFileSync(lock, '');
    const first = await sweep();
    expect(first.map((n) => [n.kind, n.payload!.removed ?? n.payload!.failed])).toEqual([
      ['janitor.removed', [t.ws, `refs/remotes/origin/${t.branch}`]],
      ['janitor.failed', [`refs/oxi/tasks/${t.id}`]],
    ]);
    expect(getTask(db, t.id)).toMatchObject({ worktree: t.ws, branch: t.branch });
    expect(await sweep()).toEqual([]);
    rmSync(lock);
    expect((await sweep()).map((n) => [n.kind, n.payload!.removed])).toEqual([['janitor.removed', [`refs/oxi/tasks/${t.id}`]]]);
    expect(hasRef(clone, `refs/oxi/tasks/${t.id}`)).toBe(false);
    expect(getTask(db, t.id)).toMatchObject({ worktree: null, branch: null });
  }, 60_000);

  it('rides the reaper\'s tick, detached from its verdicts: a host that hangs delays no reap, one run at a time, tracked; its rows go to the ledger', async () => {
    const t = await remoteTask('merged', 25 * HOUR);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    // The host itself (a real sshd), answering only once released: a host that hangs.
    const slow = Object.create(alpha) as HostTransport;
    slow.exec = async (argv, options) => {
      calls++;
      await held;
      return alpha.exec(argv, options);
    };
    const tracked: Promise<unknown>[] = [];
    const deps = { db, adapter, clock: { now: () => Date.now() }, hosts: new Map([['alpha', slow]]), track: (p: Promise<unknown>) => tracked.push(p) } as unknown as EffectDeps;
    const before = listEvents(db, { kindPrefix: 'janitor.' }).length;
    const scan = makeReapScan();
    // The verdicts come while the host has not answered; the next tick starts no second run.
    expect((await scan(deps)).reap).toEqual([]);
    expect((await scan(deps)).reap).toEqual([]);
    await waitFor('the janitor reaching the host', () => calls === 1);
    expect(tracked).toHaveLength(1);
    release();
    await Promise.all(tracked);
    expect(calls).toBe(1);
    expect(existsSync(t.ws)).toBe(false);
    const rows = listEvents(db, { kindPrefix: 'janitor.' }).slice(before);
    expect(rows.map((r) => [r.actor, r.kind, JSON.parse(r.payload).task])).toEqual([['reaper', 'janitor.removed', t.id]]);
    // Done: the next tick starts a new run.
    await scan(deps);
    expect(tracked).toHaveLength(2);
    await Promise.all(tracked);
  }, 60_000);

  it('a backlog on a host is spread over ticks: at most REMOTE_ROWS_PER_TICK rows a tick, oldest first', async () => {
    const ids = p.ids.slice(next, (next += REMOTE_ROWS_PER_TICK + 1));
    ids.forEach((id, i) => {
      const ws = join(work, ns, id);
      mkdirSync(ws, { recursive: true });
      db.prepare(`UPDATE tasks SET host='alpha', branch=NULL, worktree=?, status='abandoned', updated_at=? WHERE id=?`).run(ws, Date.now() - 25 * HOUR + i, id);
    });
    const l1 = await sweep();
    expect(l1.map((n) => n.payload!.task)).toEqual(ids.slice(0, REMOTE_ROWS_PER_TICK));
    expect(existsSync(join(work, ns, ids.at(-1)!))).toBe(true);
    expect((await sweep()).map((n) => n.payload!.task)).toEqual(ids.slice(REMOTE_ROWS_PER_TICK));
    expect(existsSync(join(work, ns, ids.at(-1)!))).toBe(false);
  }, 60_000);

  it('shadow workspaces, local and on the host, go once their run is over and their task ended keepMs ago; the pair stays', async () => {
    const [done, interrupted, running, recent] = [p.ids[next++], p.ids[next++], p.ids[next++], p.ids[next++]];
    const local = (id: string) => join(adapter.paths.worktreesRoot, `${ns}-shadow`, `${id}-a0-f0`);
    const remote = (id: string) => join(work, `${ns}-shadow`, `${id}-a0-f0`);
    const head = git(p.dir, 'rev-parse', 'main');
    const pair = async (id: string, host: 'local' | 'alpha', status: 'done' | 'interrupted' | 'running', endedAgo: number) => {
      const ws = host === 'local' ? local(id) : remote(id);
      const branch = `oxi/shadow/${id.toLowerCase()}-a0-f0`;
      if (host === 'local') await ensureWorkspace({ mainClone: p.dir, path: ws, branch, taskId: `${id}/shadow-a0-f0`, baseSha: head, mainBranch: 'main' });
      else await ensureRemoteWorktree(alpha, { mainClone: clone, path: ws, branch, base: 'main', taskId: `${id}/shadow-a0-f0`, baseSha: head });
      const pid = claimShadowPair(db, { task: id, attempt: 0, fix: 0, startSha: head, workspace: ws, host, realBackend: 'scripted', realModel: null, shadowBackend: 'scripted', shadowModel: null, at: Date.now() - 26 * HOUR })!;
      if (status !== 'running') recordShadowSide(db, pid, { status, outcome: null, error: null, files: [], costUsd: 0, checks: null, at: Date.now() - 26 * HOUR });
      db.prepare(`UPDATE tasks SET host=?, status='merged', updated_at=? WHERE id=?`).run(host, Date.now() - endedAgo + next++, id);
      return { id: pid, ws };
    };
    const pairs = [
      await pair(done, 'local', 'done', 25 * HOUR),
      await pair(interrupted, 'alpha', 'interrupted', 25 * HOUR),
      await pair(running, 'alpha', 'running', 25 * HOUR),
      await pair(recent, 'local', 'done', HOUR),
    ];
    const ledger = await sweep();
    expect(existsSync(pairs[0].ws)).toBe(false);
    expect(existsSync(pairs[1].ws)).toBe(false);
    expect(existsSync(pairs[2].ws)).toBe(true);
    expect(existsSync(pairs[3].ws)).toBe(true);
    // (Local and host rows are settled side by side: in either order.)
    expect(ledger.map((n) => [n.kind, n.payload!.task, n.payload!.host, n.payload!.removed, n.payload!.shadow]).sort((a, b) => String(a[2]).localeCompare(String(b[2])))).toEqual([
      ['janitor.removed', interrupted, 'alpha', [pairs[1].ws], { attempt: 0, fix: 0 }],
      ['janitor.removed', done, 'local', [pairs[0].ws], { attempt: 0, fix: 0 }],
    ]);
    // The pair is the report: it stays, marked so the janitor looks at it once.
    expect(getShadowPair(db, pairs[0].id)).toMatchObject({ shadow_status: 'done', workspace: pairs[0].ws });
    expect(getShadowPair(db, pairs[0].id)!.workspace_removed_at).not.toBeNull();
    expect(getShadowPair(db, pairs[2].id)!.workspace_removed_at).toBeNull();
    expect(await sweep()).toEqual([]);
    // No shadow ref in either clone, and none was made.
    expect(git(p.dir, 'for-each-ref', '--format=%(refname)')).not.toContain('shadow');
    expect(git(clone, 'for-each-ref', '--format=%(refname)')).not.toContain('shadow');
  }, 60_000);
});
