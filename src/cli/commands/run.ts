import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDemoAgent, useRealAgent } from '../../demo/agent-demo.js';
import { createSampleProject, DEMO_CONFIG, isDemoDir } from '../../demo/sample-project.js';
import { createSampleRepos, DEMO_REPOS } from '../../demo/sample-repos.js';
import { UsageError } from '../../errors.js';
import { runDaemon, type DaemonExit } from '../../runtime/daemon.js';
import { readPid } from '../../runtime/pidfile.js';
import { openDb } from '../../store/db.js';
import { assertPreflight } from '../../preflight/gate.js';
import { keepBackup } from '../../store/backup.js';
import { listTasks } from '../../store/tasks.js';
import { color, output, resolveAdapter, type GlobalOptions } from '../context.js';
import { progressPrinter } from '../progress.js';
import type { LiveView } from './dashboard.js';

/** --no-dashboard / --inspect [url] of `oxi run` and `oxi demo`. */
interface LiveOptions {
  dashboard?: boolean;
  inspect?: boolean | string;
}

async function runWith(global: GlobalOptions, until: 'forever' | 'settled' | 'quiet', quiet = false, live: LiveOptions = { dashboard: false }): Promise<DaemonExit> {
  const adapter = await resolveAdapter(global);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // Before the database or any agent: a project that would fail every task stops here (exit 2).
  await assertPreflight(adapter, log);
  const db = openDb(adapter.paths.db);
  try {
    // A daemon already running makes runDaemon refuse: no dashboard to start for nothing.
    const free = !readPid(adapter.paths.stateDir);
    // The backup oxi keeps: a consistent copy at every engine start (docs/runbooks.md).
    if (free) keepBackup(db, adapter.paths.db);
    const dashboard = live.dashboard !== false;
    const wanted = free && (dashboard || typeof live.inspect === 'string');
    const start = async () => (await import('./dashboard.js')).startLiveView({ adapter, db, inspect: live.inspect, dashboard, log });
    // With --inspect the server must exist before the engine so the stream sees the first actors;
    // otherwise it comes up beside the engine and delays nothing.
    const early = wanted && live.inspect ? await start() : undefined;
    let late: Promise<LiveView | undefined> | undefined;
    try {
      return await runDaemon({
        adapter,
        db,
        until,
        signals: true,
        log,
        inspect: early?.inspect,
        onStarted: (engine) => {
          if (early) early.attach(engine);
          else if (wanted) {
            late = start()
              .then((view) => (view?.attach(engine), view))
              .catch((error: unknown) => (log(`oxi: dashboard not started: ${(error as Error)?.message ?? String(error)}`), undefined));
          }
          if (!quiet) engine.onCommit(progressPrinter(log));
        },
      });
    } finally {
      await (early ?? (await late))?.close();
    }
  } finally {
    db.close();
  }
}

export async function runCommand(global: GlobalOptions & LiveOptions & { haltExit?: string }): Promise<number> {
  if (global.inspect === true && global.dashboard === false) {
    throw new UsageError('--inspect streams through the dashboard\'s relay, but --no-dashboard turns it off.', { fix: 'Drop --no-dashboard, or give --inspect a relay URL (e.g. --inspect ws://127.0.0.1:8080).' });
  }
  const haltExit = global.haltExit === undefined ? 3 : Number(global.haltExit);
  if (!Number.isInteger(haltExit) || haltExit < 0 || haltExit > 255) throw new UsageError(`--halt-exit: expected an exit code from 0 to 255, got ${JSON.stringify(global.haltExit)}.`, { fix: 'e.g. --halt-exit 0 (for launchd)' });
  const exit = await runWith(global, 'forever', false, global);
  process.stderr.write(`oxi: stopped: ${exit.reason}\n`);
  return exit.code === 3 ? haltExit : exit.code;
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

export async function demoCommand(global: GlobalOptions & LiveOptions & { dir?: string; tasks?: string; agent?: string; open?: boolean; repos?: string }): Promise<number> {
  const dir = resolve(global.dir ?? 'oxi-demo');
  const agent = parseDemoAgent(global.agent);
  const tasks = Number(global.tasks ?? 3);
  const repos = global.repos === undefined ? undefined : Number(global.repos);
  const resuming = isDemoDir(dir);
  if (!resuming) {
    if (!Number.isInteger(tasks) || tasks < 1) throw new UsageError(`--tasks: expected a whole number ≥ 1, got ${global.tasks}.`);
    if (repos !== undefined && !Number.isInteger(repos)) throw new UsageError(`--repos: expected a whole number from 1 to ${DEMO_REPOS.length}, got ${JSON.stringify(global.repos)}.`, { fix: 'Pass e.g. --repos 2.' });
    // --repos N: N repositories under one engine (docs/multi-repo.md); without it, the one-repository demo.
    const created = repos === undefined ? createSampleProject({ dir, tasks, setup: true }) : createSampleRepos({ dir, tasks, repos, setup: true });
    useRealAgent(created.configPath, agent);
    if (!global.json) process.stderr.write(repos === undefined ? `oxi demo: created a sample project with ${tasks} roadmap items in ${dir}\n` : `oxi demo: created ${repos} sample repositories with ${tasks} roadmap items each in ${dir} (one engine serves them all)\n`);
  } else if (!global.json) {
    process.stderr.write(`oxi demo: resuming the demo in ${dir}\n`);
  }
  const config = resolve(dir, DEMO_CONFIG);
  if (!existsSync(config)) throw new UsageError(`No ${DEMO_CONFIG} in ${dir}.`);
  const demoGlobal = { ...global, config };
  const exit = await runWith(demoGlobal, 'settled', global.json, global);
  const adapter = await resolveAdapter(demoGlobal);
  const db = openDb(adapter.paths.db);
  try {
    const rows = listTasks(db).map((t) => ({ id: t.id, repo: t.repo, status: t.status, pr: t.pr, attempts: t.attempt + 1, reason: t.reason }));
    const merged = rows.filter((r) => r.status === 'merged').length;
    const abandoned = rows.filter((r) => r.status === 'abandoned').length;
    const width = Math.max(9, ...rows.map((r) => r.id.length));
    output(global, { dir, tasks: rows, merged, abandoned, exit }, () =>
      [
        ...rows.map((r) => `${r.id.padEnd(width)} ${r.status === 'merged' ? color.green(r.status) : color.red(r.status)}  PR #${r.pr ?? '-'}  attempts ${r.attempts}${r.reason && r.status !== 'merged' ? `  ${r.reason}` : ''}`),
        '',
        `${merged} merged, ${abandoned} abandoned — ${exit.reason}`,
        `project, adapter and database left in ${dir} (oxi --config ${config} tasks)`,
        `the dashboard again, any time: oxi dashboard --config ${config}`,
      ].join('\n'),
    );
    const code = exit.code === 0 && abandoned === 0 ? 0 : exit.code || 2;
    // --open: the settled demo stays on show (diffs, transcripts, timelines) until Ctrl-C.
    if (global.open) await (await import('./dashboard.js')).serveUntilSignal(adapter, db, (line) => process.stderr.write(`${line}\n`));
    return code;
  } finally {
    db.close();
  }
}
