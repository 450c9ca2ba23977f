import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** One transition the daemon acknowledged (printed after its transaction committed). */
export interface Ack {
  task: string;
  status: string;
}

/** The daemon's progress lines (`  T0-101    → working`) are printed after each commit: the external log of acknowledgements. */
export function parseAcks(output: string): Ack[] {
  const acks: Ack[] = [];
  for (const line of output.split('\n')) {
    const m = /^\s{2}(T\d+-[A-Za-z0-9]+)\s+→ (\w+)$/.exec(line);
    if (m) acks.push({ task: m[1], status: m[2] });
  }
  return acks;
}

const selfStat = readFileSync('/proc/self/stat', 'utf8');
/** The test runner's process group: the daemons it spawns, and their non-detached children, share it. */
const OWN_PGID = Number(selfStat.slice(selfStat.lastIndexOf(')') + 2).split(' ')[2]);

/** Command lines of agent sessions: the scripted worker, claude, codex. */
const WORKER_CMD = /scripted\/worker\.js|(^|\/)(claude|codex)( |$)/;

function safeCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Worker pids written in the logs dir: `<task>/worker-*.pid` and the `pid` of `<task>/worker-*.json`. */
export function recordedInLogs(logs: string): number[] {
  if (!existsSync(logs)) return [];
  const pids: number[] = [];
  for (const task of readdirSync(logs)) {
    let files: string[];
    try {
      files = readdirSync(join(logs, task));
    } catch {
      continue;
    }
    for (const f of files) {
      try {
        const text = readFileSync(join(logs, task, f), 'utf8');
        if (f.endsWith('.pid')) pids.push(Number(text.trim()));
        else if (f.endsWith('.json')) pids.push(Number(JSON.parse(text).pid));
      } catch {
        /* being written */
      }
    }
  }
  return pids.filter((p) => Number.isInteger(p));
}

/** Live processes whose working directory is under `root`, with their process group. */
export function processesUnder(root: string): Array<{ pid: number; pgid: number; cwd: string }> {
  const out: Array<{ pid: number; pgid: number; cwd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (!cwd.startsWith(root)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      out.push({ pid: Number(entry), pgid: Number(fields[2]), cwd });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/**
 * The invariants of the chaos suite, checked on the database, the forge and the process table.
 * Returns the list of broken ones (empty when all hold).
 */
export function checkInvariants(options: { db: string; repo: string; worktrees: string; logs: string; acks: Ack[]; daemonPids: Set<number>; final: boolean; taskCount: number; strays?: Set<number> }): string[] {
  const problems: string[] = [];
  if (!existsSync(options.db)) return options.acks.length ? ['transitions were acknowledged but the database is gone'] : [];
  const db = new Database(options.db, { readonly: true });
  db.pragma('busy_timeout = 5000');
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') problems.push(`integrity_check: ${String(integrity)}`);
    const noStamp = db.prepare(`SELECT id, status FROM tasks WHERE status NOT IN ('queued') AND last_progress_at IS NULL`).all();
    if (noStamp.length) problems.push(`running-like tasks without last_progress_at: ${JSON.stringify(noStamp)}`);
    const prs = db.prepare(`SELECT task, COUNT(*) AS n FROM pull_request GROUP BY task HAVING n > 1`).all();
    if (prs.length) problems.push(`more than one PR for a task: ${JSON.stringify(prs)}`);
    // No acknowledged transition lost: each task's acknowledged statuses appear, in order, in its ledger.
    const events = db.prepare(`SELECT task, kind FROM event WHERE actor LIKE 'task:%' ORDER BY id`).all() as Array<{ task: string; kind: string }>;
    const ledger = new Map<string, string[]>();
    for (const e of events) ledger.set(e.task, [...(ledger.get(e.task) ?? []), e.kind.slice('task.'.length)]);
    const acked = new Map<string, string[]>();
    for (const a of options.acks) {
      const xs = acked.get(a.task) ?? [];
      if (xs[xs.length - 1] !== a.status) xs.push(a.status);
      acked.set(a.task, xs);
    }
    for (const [task, statuses] of acked) {
      const recorded = ledger.get(task) ?? [];
      let i = 0;
      for (const s of recorded) if (s === statuses[i]) i++;
      if (i < statuses.length) problems.push(`acknowledged transition lost: ${task} → ${statuses[i]} (acknowledged ${statuses.join(',')}; ledger ${recorded.join(',')})`);
    }
    // Torn writes: a task row and its own snapshot are written in one transaction.
    // The snapshot is on the task row (migration 7); a task without one may still have an actor_snapshot row.
    const rows = db
      .prepare(
        `SELECT t.id, t.status, COALESCE(t.snap_value, s.value) AS value FROM tasks t LEFT JOIN actor_snapshot s ON s.actor = 'task:' || t.id
         WHERE t.status != 'queued' AND COALESCE(t.snap_value, s.value) IS NOT NULL`,
      )
      .all() as Array<{ id: string; status: string; value: string }>;
    for (const r of rows) {
      const v = JSON.parse(r.value);
      const status = typeof v === 'string' ? v : typeof v.live === 'string' ? v.live : Object.keys(v.live ?? {})[0];
      if (status !== r.status) problems.push(`${r.id}: row says ${r.status}, its snapshot says ${r.value}`);
    }
    // No orphan worker: every detached process group working in a worktree is a worker the database records.
    const recorded = new Set((db.prepare(`SELECT worker_pid FROM tasks WHERE worker_pid IS NOT NULL`).all() as Array<{ worker_pid: number }>).map((r) => r.worker_pid));
    // ...or in its task's log dir (the pid file the host writes at spawn, the state file after): adopted on restart.
    for (const pid of recordedInLogs(options.logs)) recorded.add(pid);
    for (const p of processesUnder(options.worktrees)) {
      // A child of a killed daemon (git, checks) stays in the runner's group: not a detached worker.
      if (options.daemonPids.has(p.pgid) || p.pgid === OWN_PGID) continue;
      if (!recorded.has(p.pgid)) {
        let cmd = '';
        try {
          cmd = readFileSync(`/proc/${p.pgid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 200);
        } catch {
          /* gone */
        }
        // The local forge runs checks in their own group in the worktree too: a killed daemon's checks run
        // finishes on its own and is re-run after restore. Only agent sessions count as workers.
        if (!WORKER_CMD.test(cmd)) {
          options.strays?.add(p.pgid); // a run is its group: counted once, however many processes and checks see it
          continue;
        }
        problems.push(`orphan worker: pid ${p.pid} (group ${p.pgid}, ${cmd}) in ${p.cwd} is recorded by no task (recorded: ${[...recorded].join(',')})`);
      }
    }
    // At most one merge per task: squash commits on main carry the task id.
    const tasks = db.prepare('SELECT id, status, worker_pid FROM tasks').all() as Array<{ id: string; status: string; worker_pid: number | null }>;
    const log = execFileSync('git', ['log', '--format=%s', 'main'], { cwd: options.repo, encoding: 'utf8' }).split('\n');
    for (const t of tasks) {
      const merges = log.filter((l) => l.startsWith(`${t.id}:`)).length;
      if (merges > 1 || (options.final && t.status === 'merged' && merges !== 1)) problems.push(`${t.id} (${t.status}) has ${merges} merge commits on main`);
    }
    if (options.final) {
      if (tasks.length !== options.taskCount) problems.push(`expected ${options.taskCount} tasks, found ${tasks.length}`);
      const open = tasks.filter((t) => !['merged', 'abandoned'].includes(t.status));
      if (open.length) problems.push(`tasks not terminal at the end: ${JSON.stringify(open)}`);
      const alive = processesUnder(options.worktrees).filter((p) => !options.daemonPids.has(p.pgid) && p.pgid !== OWN_PGID && WORKER_CMD.test(safeCmd(p.pgid)));
      if (alive.length) problems.push(`workers still running at the end: ${JSON.stringify(alive)}`);
    }
  } finally {
    db.close();
  }
  return problems;
}
