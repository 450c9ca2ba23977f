/**
 * A promote run's process group on record (promote_group) and what a later process does with a run whose runner
 * died: real SQLite, real process groups (a detached node that sleeps), a real dead process as the owner.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { promoteHistory, runPromote } from '../../../actors/effects/promote.js';
import { endInterruptedPromotes, ownerGone } from '../../../actors/effects/promote-recovery.js';
import type { EffectDeps } from '../../../actors/effects/deps.js';
import { ManualClock } from '../../../src/clock.js';
import { validateConfig } from '../../../src/config/validate.js';
import { bootId, processStart } from '../../../src/process.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { promoteGroups, setPromoteGroup, startPromoteRun } from '../../../src/store/promote-groups.js';
import { recentPromoteRows } from '../../../src/store/promote.js';
import { isAlive, waitFor } from '../../helpers/project.js';

let dir: string;
let db: Db | undefined;
const groups: number[] = [];
afterEach(() => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  db?.close();
  db = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function setup(promote: Record<string, unknown> = { command: ['true'], schedule: 'daily 03:00' }) {
  dir = mkdtempSync(join(tmpdir(), 'oxi-promote-rec-'));
  const adapter = validateConfig({ name: 'p', repo: { path: dir }, paths: { stateDir: join(dir, '.oxi') }, promote }, { configPath: join(dir, 'oxi.config.json') });
  db = openDb(join(dir, 'oxi.db'));
  return { adapter, db, clock: new ManualClock(Date.UTC(2026, 2, 10, 3, 0)) };
}

/** A process group that sleeps (a leader and a child that ignores SIGTERM), as a promote command left behind. */
function sleepingGroup(): ChildProcess & { pid: number } {
  const script = "const c = require('child_process').spawn(process.execPath, ['-e', 'process.on(\"SIGTERM\", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000)";
  const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] }) as ChildProcess & { pid: number };
  groups.push(child.pid);
  return child;
}

const firstLine = (child: ChildProcess) => new Promise<number>((r) => child.stdout!.once('data', (d) => r(Number(String(d).trim()))));

/** The pid of a process that has ended. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
}

describe('promote runs on record', () => {
  it('a run in flight has its process group on record; its end clears it with the promote.run row', async () => {
    const { adapter, db, clock } = setup({ command: [process.execPath, '-e', 'setTimeout(() => {}, 60_000)'], schedule: 'after-merge' });
    const stop = new AbortController();
    let pid = 0;
    const run = runPromote({ db, adapter, clock, recipe: adapter.promote as never, trigger: 'manual', actor: 'test', signal: stop.signal, onStart: (p) => (pid = p), stoppedBy: () => 'the test' });
    const row = await waitFor('the run on record', () => promoteGroups(db).find((g) => g.pid !== null));
    expect(row).toMatchObject({ name: 'default', actor: 'test', trigger: 'manual', owner_pid: process.pid, pid, boot_id: bootId(), leader_start: processStart(pid)!.start });
    // This process runs it: never swept from here.
    expect(ownerGone(row)).toBe(false);
    expect(await endInterruptedPromotes({ db, clock })).toBe(0);
    expect(isAlive(pid)).toBe(true);
    stop.abort();
    const out = await run;
    expect(out.summary).toBe('stopped by the test (SIGTERM)');
    expect(isAlive(pid)).toBe(false);
    expect(promoteGroups(db)).toEqual([]);
    expect(recentPromoteRows(db, 1)[0]).toMatchObject({ kind: 'promote.run', payload: expect.objectContaining({ startedId: row.started_id, ok: false }) });
  });

  it('a run whose runner died: its group is ended (TERM, grace, KILL) and the run recorded once as interrupted', async () => {
    const { db, clock } = setup();
    const group = sleepingGroup();
    const grandchild = await firstLine(group);
    const owner = deadPid();
    const startedAt = clock.now();
    const id = startPromoteRun(db, { at: startedAt, actor: 'promoter:default', kind: 'promote.started', payload: { name: 'default', repo: 'p', trigger: 'schedule', mergeId: 0 } }, { pid: owner, start: null, bootId: bootId() });
    setPromoteGroup(db, id, group.pid, processStart(group.pid)!.start);
    clock.advance(60_000);
    const notes: string[] = [];
    const recorded = await endInterruptedPromotes({ db, clock, graceMs: 300, notifier: { notify: async (m) => void notes.push(m.title) } });
    expect(recorded).toBe(1);
    // The grandchild ignored SIGTERM: the grace ran out and the group got SIGKILL.
    await waitFor('the group to be gone', () => !isAlive(group.pid) && !isAlive(grandchild), 10_000);
    expect(promoteGroups(db)).toEqual([]);
    const run = recentPromoteRows(db, 1)[0]!;
    expect(run).toMatchObject({ kind: 'promote.run', actor: 'promoter:default' });
    expect(run.payload).toMatchObject({ name: 'default', repo: 'p', ok: false, interrupted: true, exitCode: null, startedId: id, startedAt, pid: group.pid });
    expect(run.payload.summary).toBe(`interrupted: the process running it (pid ${owner}) ended mid-run; its command (process group ${group.pid}) was still running and was stopped`);
    expect(notes).toEqual([`Promote default ${run.payload.summary}`]);
    // Recorded once: a second look finds nothing.
    expect(await endInterruptedPromotes({ db, clock })).toBe(0);
    // The interrupted run counts from its start: the day's run is not run again.
    const history = await promoteHistory({ db, clock } as unknown as EffectDeps, { name: 'default' });
    expect(history.lastRunAt).toBe(startedAt);
  });

  it('leaves alone a run whose runner lives, and never signals a pid that now names another process', async () => {
    const { db, clock } = setup();
    const runner = sleepingGroup();
    const other = sleepingGroup();
    await firstLine(other);
    const live = startPromoteRun(db, { at: clock.now(), actor: 'cli:x', kind: 'promote.started', payload: { name: 'default', trigger: 'manual', mergeId: 0 } }, { pid: runner.pid, start: processStart(runner.pid)!.start, bootId: bootId() });
    setPromoteGroup(db, live, other.pid, processStart(other.pid)!.start);
    expect(await endInterruptedPromotes({ db, clock })).toBe(0);
    expect(promoteGroups(db).map((g) => g.started_id)).toEqual([live]);
    // The same runner pid, but a start time that is not the runner's: a reused pid, so the runner is gone.
    const reused = startPromoteRun(db, { at: clock.now(), actor: 'cli:x', kind: 'promote.started', payload: { name: 'other', trigger: 'manual', mergeId: 0 } }, { pid: runner.pid, start: '1', bootId: bootId() });
    // Its recorded group's leader started at another time too: that pid is someone else's now, not signalled.
    setPromoteGroup(db, reused, other.pid, '1');
    expect(await endInterruptedPromotes({ db, clock, graceMs: 100 })).toBe(1);
    expect(isAlive(other.pid)).toBe(true);
    expect(recentPromoteRows(db, 1, 'other')[0]!.payload.summary).toMatch(/had ended, its outcome is unknown$/);
    expect(promoteGroups(db).map((g) => g.started_id)).toEqual([live]);
  });
  it('never signals a group it cannot verify (no start time on record, as where there is no procfs): recorded, not signalled', async () => {
    const { db, clock } = setup();
    const group = sleepingGroup();
    await firstLine(group);
    const owner = deadPid();
    const id = startPromoteRun(db, { at: clock.now(), actor: 'promoter:default', kind: 'promote.started', payload: { name: 'default', trigger: 'schedule', mergeId: 0 } }, { pid: owner, start: null, bootId: bootId() });
    setPromoteGroup(db, id, group.pid, null);
    expect(await endInterruptedPromotes({ db, clock, graceMs: 100 })).toBe(1);
    expect(isAlive(group.pid)).toBe(true);
    expect(recentPromoteRows(db, 1)[0]!.payload.summary).toMatch(new RegExp(`process group ${group.pid} could not be verified as its own .*not signalled`));
    expect(promoteGroups(db)).toEqual([]);
  });
});
