/** The janitor removes finished tasks' workspaces and local branches after the keep time, and nothing else. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveDir, compactFinished, sweepFinished } from '../../../actors/effects/janitor.js';
import { loadAdapter } from '../../../src/config/load.js';
import { openDb } from '../../../src/store/db.js';
import { ingestItems } from '../../../src/store/tasks.js';
import { appendEvent, listEvents } from '../../../src/store/ledger.js';
import { readArchivedEvents } from '../../../src/store/retention.js';
import { oxi, sampleProject } from '../../helpers/project.js';

const p = sampleProject({ tasks: 4 });
afterAll(() => p.cleanup());
const git = (...args: string[]) => execFileSync('git', args, { cwd: p.dir, encoding: 'utf8' }).trim();
const hasRef = (ref: string) => git('for-each-ref', '--format=%(refname)', ref) === ref;

describe('janitor', () => {
  it('after keepMs: a merged task loses workspace, branch and task ref; an abandoned one keeps its task ref; recent and live ones are untouched', async () => {
    const adapter = await loadAdapter({ cwd: p.dir });
    expect(adapter.engine.janitor.keepMs).toBe(24 * 3_600_000);
    const db = openDb(p.db);
    const now = Date.now();
    const [oldMerged, oldAbandoned, recentMerged, working] = p.ids;
    ingestItems(db, p.ids.map((id, seq) => ({ id, repo: 'demo', tier: 0, title: id, description: '', seq })), now);
    const head = git('rev-parse', 'HEAD');
    for (const id of p.ids) {
      const ws = join(adapter.paths.worktreesRoot, 'demo-default', id);
      mkdirSync(ws, { recursive: true });
      writeFileSync(join(ws, 'file.txt'), 'work');
      git('update-ref', `refs/heads/oxi/${id}`, head);
      git('update-ref', `refs/oxi/tasks/${id}`, head);
      db.prepare(`UPDATE tasks SET host='local', branch=?, worktree=? WHERE id=?`).run(`oxi/${id}`, ws, id);
    }
    const set = db.prepare(`UPDATE tasks SET status=?, updated_at=? WHERE id=?`);
    set.run('merged', now - 25 * 3_600_000, oldMerged);
    set.run('abandoned', now - 25 * 3_600_000, oldAbandoned);
    set.run('merged', now - 3_600_000, recentMerged);
    set.run('working', now - 48 * 3_600_000, working);

    const ledger = await sweepFinished({ db, adapter, now });
    const ws = (id: string) => join(adapter.paths.worktreesRoot, 'demo-default', id);
    expect(existsSync(ws(oldMerged))).toBe(false);
    expect(hasRef(`refs/heads/oxi/${oldMerged}`)).toBe(false);
    expect(hasRef(`refs/oxi/tasks/${oldMerged}`)).toBe(false);
    expect(existsSync(ws(oldAbandoned))).toBe(false);
    expect(hasRef(`refs/heads/oxi/${oldAbandoned}`)).toBe(false);
    expect(hasRef(`refs/oxi/tasks/${oldAbandoned}`)).toBe(true);
    for (const id of [recentMerged, working]) {
      expect(existsSync(ws(id))).toBe(true);
      expect(hasRef(`refs/heads/oxi/${id}`)).toBe(true);
    }
    expect(ledger.map((n) => [n.kind, (n.payload as { task: string }).task])).toEqual([['janitor.removed', oldMerged], ['janitor.removed', oldAbandoned]]);
    // Swept once: the rows forget the paths, so a second pass has nothing to do.
    expect(await sweepFinished({ db, adapter, now })).toEqual([]);
    // The main branch is never deleted, even when a row names it.
    db.prepare(`UPDATE tasks SET branch='main', worktree=NULL, status='abandoned', updated_at=? WHERE id=?`).run(now - 25 * 3_600_000, recentMerged);
    await sweepFinished({ db, adapter, now });
    expect(hasRef('refs/heads/main')).toBe(true);
    db.close();
  });

  it('oxi status shows the disk use of workspaces, logs and the database', () => {
    const res = oxi(['status', '--json'], { cwd: p.dir });
    expect(res.code, res.stderr).toBe(0);
    const disk = JSON.parse(res.stdout).disk;
    expect(disk.worktrees.workspaces).toBe(2);
    expect(disk.worktrees.bytes).toBeGreaterThan(0);
    expect(disk.db.bytes).toBeGreaterThan(0);
    expect(oxi(['status'], { cwd: p.dir }).stdout).toMatch(/disk {5}workspaces [\d.]+ KB \(2; finished ones removed after 24 h\), logs .*, database [\d.]+ KB/);
  });

  it('retention: with the reaper, once per intervalMs, old rows of finished tasks go to the archive under the state dir; live ones stay', async () => {
    const adapter = await loadAdapter({ cwd: p.dir });
    expect(adapter.engine.retention).toEqual({ ledgerDays: 30, terminalSnapshotDays: 7, intervalMs: 3_600_000 });
    const db = openDb(p.db);
    const now = Date.now();
    const [finished, live] = p.ids;
    db.prepare(`UPDATE tasks SET status=?, last_progress_at=? WHERE id=?`).run('merged', now - 40 * 86_400_000, finished);
    db.prepare(`UPDATE tasks SET status=?, last_progress_at=? WHERE id=?`).run('working', now - 40 * 86_400_000, live);
    for (const task of [finished, live]) appendEvent(db, { at: now - 35 * 86_400_000, actor: `task:${task}`, kind: 'task.working', task });
    const notes = compactFinished({ db, adapter, now });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ kind: 'janitor.archived', payload: { ledgerRows: 1, snapshots: 0 } });
    expect(listEvents(db, { task: finished })).toEqual([]);
    expect(listEvents(db, { task: live })).toHaveLength(1);
    const files = readdirSync(archiveDir(adapter));
    expect(files).toHaveLength(1);
    expect(readArchivedEvents(join(archiveDir(adapter), files[0]), { task: finished }).map((e) => e.kind)).toEqual(['task.working']);
    // Within intervalMs nothing runs again; after it, a run finds nothing left to move.
    appendEvent(db, { at: now - 35 * 86_400_000, actor: `task:${finished}`, kind: 'task.merged', task: finished });
    expect(compactFinished({ db, adapter, now: now + 1000 })).toEqual([]);
    expect(listEvents(db, { task: finished })).toHaveLength(1);
    expect(compactFinished({ db, adapter, now: now + 3_600_000 })).toHaveLength(1);
    expect(listEvents(db, { task: finished })).toEqual([]);
    db.close();
  });
});
