import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDemoAgent, useRealAgent } from '../../demo/agent-demo.js';
import { createSampleProject, DEMO_CONFIG, isDemoDir } from '../../demo/sample-project.js';
import { UsageError } from '../../errors.js';
import { runDaemon, type DaemonExit } from '../../runtime/daemon.js';
import { openDb } from '../../store/db.js';
import { listTasks } from '../../store/tasks.js';
import { color, output, resolveAdapter, type GlobalOptions } from '../context.js';
import { progressPrinter } from '../progress.js';

async function runWith(global: GlobalOptions, until: 'forever' | 'settled' | 'quiet', quiet = false): Promise<DaemonExit> {
  const adapter = await resolveAdapter(global);
  const db = openDb(adapter.paths.db);
  try {
    return await runDaemon({
      adapter,
      db,
      until,
      signals: true,
      log: (line) => process.stderr.write(`${line}\n`),
      onStarted: (engine) => {
        if (!quiet) engine.onCommit(progressPrinter((line) => process.stderr.write(`${line}\n`)));
      },
    });
  } finally {
    db.close();
  }
}

export async function runCommand(global: GlobalOptions): Promise<number> {
  const exit = await runWith(global, 'forever');
  process.stderr.write(`oxi: stopped: ${exit.reason}\n`);
  return exit.code;
}

export async function tickCommand(global: GlobalOptions & { times?: string }): Promise<number> {
  const times = Number(global.times ?? 1);
  if (!Number.isInteger(times) || times < 1) throw new UsageError(`--times: expected a whole number ≥ 1, got ${global.times}.`);
  let last: DaemonExit = { code: 0, reason: 'no pass' };
  for (let i = 0; i < times; i++) {
    last = await runWith(global, 'quiet', global.json);
    if (last.code !== 0) break;
  }
  output(global, { passes: times, exit: last }, () => `tick: ${last.reason}`);
  return last.code;
}

export async function demoCommand(global: GlobalOptions & { dir?: string; tasks?: string; dashboard?: boolean; agent?: string }): Promise<number> {
  const dir = resolve(global.dir ?? 'oxi-demo');
  const agent = parseDemoAgent(global.agent);
  const tasks = Number(global.tasks ?? 3);
  const resuming = isDemoDir(dir);
  if (!resuming) {
    if (!Number.isInteger(tasks) || tasks < 1) throw new UsageError(`--tasks: expected a whole number ≥ 1, got ${global.tasks}.`);
    useRealAgent(createSampleProject({ dir, tasks }).configPath, agent);
    if (!global.json) process.stderr.write(`oxi demo: created a sample project with ${tasks} roadmap items in ${dir}\n`);
  } else if (!global.json) {
    process.stderr.write(`oxi demo: resuming the demo in ${dir}\n`);
  }
  const config = resolve(dir, DEMO_CONFIG);
  if (!existsSync(config)) throw new UsageError(`No ${DEMO_CONFIG} in ${dir}.`);
  const demoGlobal = { ...global, config };
  const exit = await runWith(demoGlobal, 'settled', global.json);
  const adapter = await resolveAdapter(demoGlobal);
  const db = openDb(adapter.paths.db);
  try {
    const rows = listTasks(db).map((t) => ({ id: t.id, status: t.status, pr: t.pr, attempts: t.attempt + 1, reason: t.reason }));
    const merged = rows.filter((r) => r.status === 'merged').length;
    const abandoned = rows.filter((r) => r.status === 'abandoned').length;
    output(global, { dir, tasks: rows, merged, abandoned, exit }, () =>
      [
        ...rows.map((r) => `${r.id.padEnd(9)} ${r.status === 'merged' ? color.green(r.status) : color.red(r.status)}  PR #${r.pr ?? '-'}  attempts ${r.attempts}${r.reason && r.status !== 'merged' ? `  ${r.reason}` : ''}`),
        '',
        `${merged} merged, ${abandoned} abandoned — ${exit.reason}`,
        `project, adapter and database left in ${dir} (oxi --config ${config} tasks)`,
      ].join('\n'),
    );
    return exit.code === 0 && abandoned === 0 ? 0 : exit.code || 2;
  } finally {
    db.close();
  }
}
