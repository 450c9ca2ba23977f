import { join } from 'node:path';
import { query, sampleProject, spawnOxi } from '../helpers/project.js';
import { prng } from '../helpers/prng.js';
import { checkInvariants, parseAcks, type Ack } from './invariants.js';

export interface ChaosOptions {
  tasks: number;
  kills: number;
  seed: number;
  /** Kill delays: in [minDelayMs, maxDelayMs] after spawn (boot kills), or in [0, maxDelayMs] after the first commit (recorded negative). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Progress lines for long runs. */
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  tasks: number;
  kills: number;
  killPoints: number[];
  runs: number;
  acks: number;
  problems: string[];
  merged: number;
  /** Checks runs of killed daemons found still running (they finish on their own; re-run after restore). */
  strays: number;
}

/**
 * SIGKILLs `oxi demo --dir` at seeded random instants, restarting it each time, then lets it finish.
 * The progress lines it printed are the external log of what it acknowledged. After every kill
 * and at the end the invariants are checked; the first broken one stops the run with the seed and
 * kill points, so it can be replayed.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const rand = prng(options.seed);
  const project = sampleProject({
    tasks: options.tasks,
    // Slow workers on every other task, so kills land while agents run (detached: adopted, never doubled).
    script: (s) => {
      for (const [i, t] of Object.values(s.tasks).entries()) if (i % 2 === 0) Object.assign(t, { behaviour: 'slow', delayMs: 700 });
    },
  });
  const worktrees = join(project.dir, '.oxi', 'worktrees');
  const acks: Ack[] = [];
  const killPoints: number[] = [];
  const daemonPids = new Set<number>();
  const lo = options.minDelayMs ?? 150;
  const hi = options.maxDelayMs ?? 1050;
  let runs = 0;
  const strays = new Set<number>();
  const report = (problems: string[], merged = 0): ChaosReport => ({ seed: options.seed, tasks: options.tasks, kills: killPoints.length, killPoints, runs, acks: acks.length, problems, merged, strays: strays.size });
  try {
    for (let run = 0; ; run++) {
      runs++;
      const child = spawnOxi(['demo', '--dir', project.dir]);
      if (child.pid) daemonPids.add(child.pid);
      const killing = run < options.kills;
      let timer: NodeJS.Timeout | undefined;
      if (killing) {
        // One kill in five lands during boot (from spawn); the rest after the daemon's first commit, so a
        // slow boot on a loaded machine cannot turn every kill into a boot kill and stall the run.
        const duringBoot = rand() < 0.2;
        const delay = duringBoot ? lo + Math.floor(rand() * (hi - lo)) : Math.floor(rand() * hi);
        killPoints.push(duringBoot ? delay : -delay);
        const arm = () => (timer = setTimeout(() => child.kill('SIGKILL'), delay));
        if (duringBoot) arm();
        else {
          const onData = () => {
            if (!/→/.test(child.output())) return;
            child.stderr!.off('data', onData);
            arm();
          };
          child.stderr!.on('data', onData);
        }
      }
      const code = await child.exited;
      clearTimeout(timer);
      acks.push(...parseAcks(child.output()));
      const final = !killing && code === 0;
      if (!killing && code !== 0) return report([`the last run exited ${code}: ${child.output().slice(-2000)}`]);
      const problems = checkInvariants({ db: project.db, repo: project.dir, worktrees, logs: join(project.dir, '.oxi', 'logs'), acks, daemonPids, final, taskCount: options.tasks, strays });
      if (problems.length) return report(problems.map((p) => `after run ${run} (${killing ? `killed at ${killPoints[killPoints.length - 1]} ms` : 'ran to the end'}; negative: after the first commit): ${p}`));
      if (options.log && run % 25 === 0) options.log(`chaos: run ${run}, ${killPoints.length} kills, ${acks.length} acknowledged transitions`);
      if (final) {
        // From the database, not the acks: a kill between a commit and its progress line loses the line, not the merge.
        const rows = query<{ id: string; status: string; attempt: number; reason: string | null }>(project.db, 'SELECT id, status, attempt, reason FROM tasks ORDER BY id');
        const unmerged = rows.filter((r) => r.status !== 'merged').map((r) => `${r.id} ${r.status} (attempt ${r.attempt}): ${r.reason ?? '-'}`);
        return report(unmerged.map((u) => `not merged: ${u}`), rows.length - unmerged.length);
      }
      if (run > options.kills + 20) return report([`did not settle within 20 runs after the last kill`]);
    }
  } finally {
    project.cleanup();
  }
}
