/**
 * Promote runs whose runner died (a daemon SIGKILLed or crashed, a CLI killed mid-run). Each run in flight has a
 * `promote_group` row naming the process running it and the command's process group. When that process is gone,
 * the group is ended (SIGTERM, a grace, SIGKILL of the whole group) and the run is recorded as interrupted: a
 * `promote.run` row with `interrupted: true`, never run again by itself (a day's promote never runs twice).
 */
import type { Clock } from '../../src/clock.js';
import { bootId, processExists, processStart } from '../../src/process.js';
import type { Notifier } from '../../src/ports.js';
import type { Db } from '../../src/store/db.js';
import { interruptPromoteRun, promoteGroups, type PromoteGroupRow, type PromoteOwner } from '../../src/store/promote-groups.js';
import { promoteRowById } from '../../src/store/promote.js';
import { LocalHost } from '../hosts/local-host.js';

/** Between SIGTERM and SIGKILL of a promote's group (ms). */
export const PROMOTE_GRACE_MS = 5000;

/** The runs this process is running now (by their promote.started id): never swept from here. */
const runningHere = new Set<number>();
/** One sweep at a time per database: a second caller joins it. */
const sweeps = new WeakMap<Db, Promise<number>>();

/** This process, as a promote_group row records its owner. */
export function thisOwner(): PromoteOwner {
  return { pid: process.pid, start: processStart(process.pid)?.start ?? null, bootId: bootId() };
}

export function runningInThisProcess(startedId: number, running: boolean): void {
  if (running) runningHere.add(startedId);
  else runningHere.delete(startedId);
}

const otherBoot = (row: PromoteGroupRow): boolean => {
  const now = bootId();
  return row.boot_id !== null && now !== null && row.boot_id !== now;
};

/** Whether the process that ran the row's promote is gone (a reused pid, or another boot, is not it). */
export function ownerGone(row: PromoteGroupRow): boolean {
  if (row.owner_pid === process.pid) return !runningHere.has(row.started_id);
  if (otherBoot(row)) return true;
  const p = processStart(row.owner_pid);
  if (p) return p.state === 'Z' || (row.owner_start !== null && p.start !== row.owner_start);
  return !processExists(row.owner_pid);
}

/**
 * Whether the recorded group is this run's: never after a reboot; unverified when its leader's start time was not
 * recorded (no procfs), so it is never signalled; a leader gone leaves the group ours (its id is not reused while a
 * member lives); a live leader (a zombie too) must have the recorded start time, else the pid leads another process.
 */
function groupVerdict(row: PromoteGroupRow): 'ours' | 'not ours' | 'unverified' {
  if (row.pid === null || otherBoot(row)) return 'not ours';
  if (row.leader_start === null) return 'unverified';
  const leader = processStart(row.pid);
  return !leader || leader.start === row.leader_start ? 'ours' : 'not ours';
}

/** Ends a promote's process group and waits until it is gone (SIGTERM, `graceMs`, SIGKILL). Rejects when it cannot signal it. */
export function endPromoteGroup(pid: number, graceMs = PROMOTE_GRACE_MS): Promise<void> {
  return new LocalHost('promote').killGroup(pid, graceMs);
}

export interface SweepOptions {
  db: Db;
  clock: Clock;
  graceMs?: number;
  log?: (line: string) => void;
  /** Told of each run recorded as interrupted (a failed run is notified). */
  notifier?: Notifier;
}

/**
 * Ends the groups of runs whose runner died and records each run as interrupted; resolves with how many it
 * recorded. Never rejects: a group it cannot end keeps its row, tried again at the next sweep.
 */
export function endInterruptedPromotes(o: SweepOptions): Promise<number> {
  const running = sweeps.get(o.db);
  if (running) return running;
  const sweep = sweepOnce(o)
    .catch((error: unknown) => (o.log?.(`oxi: could not look for interrupted promote runs: ${(error as Error).message}`), 0))
    .finally(() => sweeps.delete(o.db));
  sweeps.set(o.db, sweep);
  return sweep;
}

async function sweepOnce(o: SweepOptions): Promise<number> {
  let recorded = 0;
  for (const row of promoteGroups(o.db).filter(ownerGone)) {
    let ended = false;
    const verdict = groupVerdict(row);
    if (verdict === 'ours') {
      try {
        ended = await endGroupIfAlive(row.pid!, o.graceMs);
      } catch (error) {
        o.log?.(`oxi: could not end promote ${row.name}'s process group ${row.pid}: ${(error as Error).message}; it stays recorded and is tried again at the next start`);
        continue;
      }
    }
    const summary = interruptedSummary(row, ended, verdict === 'unverified');
    const started = promoteRowById(o.db, row.started_id);
    const at = o.clock.now();
    const payload = { name: row.name, repo: started?.payload.repo, trigger: row.trigger, ok: false, interrupted: true, exitCode: null, signal: ended ? 'SIGTERM' : null, durationMs: Math.max(0, at - row.at), summary, outputTail: '', mergeId: row.merge_id, pid: row.pid, startedId: row.started_id, startedAt: row.at };
    if (interruptPromoteRun(o.db, row.started_id, { at, actor: row.actor, kind: 'promote.run', payload }) === undefined) continue;
    recorded++;
    o.log?.(`oxi: promote ${row.name} ${summary}`);
    await o.notifier?.notify({ kind: 'promote', severity: 'error', title: `Promote ${row.name} ${summary}`, body: 'It is not run again by itself: check what it did, then run `oxi promote --now` if it must run.' }).catch(() => undefined);
  }
  return recorded;
}

/** True when something of the group was still running (and is now ended). */
async function endGroupIfAlive(pid: number, graceMs?: number): Promise<boolean> {
  try {
    process.kill(-pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  await endPromoteGroup(pid, graceMs);
  return true;
}

function interruptedSummary(row: PromoteGroupRow, ended: boolean, unverified: boolean): string {
  const who = `the process running it (pid ${row.owner_pid}) ended mid-run`;
  if (row.pid === null) return `interrupted: ${who}, before its command's process group was on record`;
  if (unverified) return `interrupted: ${who}; its command's process group ${row.pid} could not be verified as its own (no start time on record), so it was not signalled: check whether it still runs`;
  if (ended) return `interrupted: ${who}; its command (process group ${row.pid}) was still running and was stopped`;
  return `interrupted: ${who}; its command (process group ${row.pid}) had ended, its outcome is unknown`;
}
