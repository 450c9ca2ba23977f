import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { isAlive, query, sampleProject, spawnOxi } from '../helpers/project.js';

const KILLS = Number(process.env.OXI_CRASH_KILLS ?? 24);
const seed = Number(process.env.OXI_CRASH_SEED ?? Date.now() % 100_000);

/** mulberry32: a seeded PRNG so a failing run can be replayed with OXI_CRASH_SEED. */
function prng(a: number) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const project = sampleProject({
  tasks: 8,
  // Slow workers so kills land while agents run (they are detached and must be adopted, not doubled).
  script: (s) => {
    for (const [i, t] of Object.values(s.tasks).entries()) if (i % 2 === 0) Object.assign(t, { behaviour: 'slow', delayMs: 700 });
  },
});
afterAll(() => project.cleanup());

function checkInvariants(stage: string) {
  if (!existsSync(project.db)) return; // killed before the daemon created it
  const db = new Database(project.db, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true }), stage).toBe('ok');
    const bad = db.prepare(`SELECT id, status FROM tasks WHERE status NOT IN ('queued') AND last_progress_at IS NULL`).all();
    expect(bad, `${stage}: running-like rows without last_progress_at`).toEqual([]);
    const prs = db.prepare(`SELECT task, COUNT(*) AS n FROM pull_request GROUP BY task HAVING n > 1`).all();
    expect(prs, `${stage}: more than one PR for a task`).toEqual([]);
    // every task row's status matches its own persisted actor snapshot (written in the same transaction)
    const torn = db
      .prepare(`SELECT t.id, t.status, s.value FROM tasks t JOIN actor_snapshot s ON s.actor = 'task:' || t.id WHERE t.status NOT IN ('queued')`)
      .all() as Array<{ id: string; status: string; value: string }>;
    for (const r of torn) {
      const v = JSON.parse(r.value);
      const status = typeof v === 'string' ? v : v.live;
      expect(status, `${stage}: ${r.id} row says ${r.status}, snapshot says ${r.value}`).toBe(r.status);
    }
  } finally {
    db.close();
  }
}

describe(`crash: SIGKILL the daemon at ${KILLS} random moments (seed ${seed})`, () => {
  it('loses no task, opens at most one PR and makes at most one merge per task, leaves no orphan worker', async () => {
    const rand = prng(seed);
    const killPoints: number[] = [];
    let finished = false;
    for (let run = 0; run < KILLS + 20 && !finished; run++) {
      const child = spawnOxi(['demo', '--dir', project.dir, '--json']);
      if (run < KILLS) {
        const delay = Math.floor(150 + rand() * 900);
        killPoints.push(delay);
        const timer = setTimeout(() => child.kill('SIGKILL'), delay);
        const code = await child.exited;
        clearTimeout(timer);
        if (code === 0) finished = run >= KILLS - 1;
      } else {
        const code = await child.exited;
        expect(code, child.output()).toBe(0);
        finished = true;
      }
      checkInvariants(`after run ${run} (seed ${seed}, kill points ${killPoints.join(',')})`);
    }
    expect(finished).toBe(true);

    const tasks = query<{ id: string; status: string; worker_pid: number | null }>(project.db, 'SELECT id, status, worker_pid FROM tasks');
    expect(tasks).toHaveLength(8);
    expect(tasks.filter((t) => t.status !== 'merged'), `seed ${seed}`).toEqual([]);
    const log = execFileSync('git', ['log', '--format=%s', 'main'], { cwd: project.dir, encoding: 'utf8' }).split('\n');
    for (const t of tasks) expect(log.filter((l) => l.startsWith(`${t.id}:`)), `merges of ${t.id} (seed ${seed})`).toHaveLength(1);
    execFileSync('node', ['--test'], { cwd: project.dir, stdio: 'pipe' });
    // No orphan: every worker that was ever recorded has exited.
    for (const t of tasks) if (t.worker_pid) expect(isAlive(t.worker_pid), `worker of ${t.id}`).toBe(false);
    expect(readdirSync(project.dir)).toContain('.oxi');
  });
});
