import { DaemonError, UsageError } from '../../errors.js';
import { callDaemon } from '../../runtime/control.js';
import { readPid } from '../../runtime/pidfile.js';
import { getTask, listTasks, requeue } from '../../store/tasks.js';
import { output, withStore, type GlobalOptions } from '../context.js';
import { operator } from './control.js';

/** Statuses whose task machine takes `task.retry` (the wait ends now, or the failed PR step runs again). */
export const WAITING_STATUSES = ['awaiting_human', 'backoff', 'deferred', 'pr_backoff'] as const;

/**
 * `oxi retry <taskId>`: an abandoned task goes back to the queue (attempts reset; works with no
 * daemon, the next start or seed picks it up); a waiting one gets `task.retry` from the daemon.
 */
export async function retryCommand(global: GlobalOptions, taskId: string): Promise<void> {
  await withStore(global, async (adapter, db) => {
    const task = getTask(db, taskId);
    if (!task) {
      const known = listTasks(db).map((t) => t.id);
      throw new UsageError(`oxi retry: expected a task id, got "${taskId}", which no task has.`, {
        fix: known.length ? `Known tasks: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''} (oxi tasks lists them).` : 'No tasks yet: `oxi run` or `oxi tick` seeds them from the roadmap.',
      });
    }
    const daemon = readPid(adapter.paths.stateDir);
    if (task.status === 'abandoned') {
      requeue(db, taskId, Date.now(), operator());
      // The seeder looks at the queue on its interval; a poke makes a running daemon look now.
      if (daemon) await callDaemon(adapter.paths.stateDir, { op: 'send', actor: 'seeder', event: { type: 'seeder.poke' } }).catch(() => undefined);
      output(global, { task: taskId, from: 'abandoned', to: 'queued', daemon: daemon?.pid ?? null }, () =>
        `requeued ${taskId}: it plans again from the start (attempts reset)${daemon ? '' : '\nno daemon is running: `oxi run` or `oxi tick` picks it up'}`,
      );
      return;
    }
    if (!(WAITING_STATUSES as readonly string[]).includes(task.status)) {
      throw new UsageError(`oxi retry: expected an abandoned or waiting task (abandoned, ${WAITING_STATUSES.join(', ')}), got ${taskId} in ${task.status}.`, {
        fix: task.status === 'merged' ? 'A merged task is done: add a new roadmap item for more work.' : `It is running: watch it with oxi tail ${taskId}, or stop everything with oxi kill --reason <text>.`,
      });
    }
    if (!daemon) {
      throw new DaemonError(`oxi retry: ${taskId} is ${task.status}, and its wait lives in the daemon, but no daemon is running.`, {
        fix: `Start one with \`oxi run\` (the task resumes its wait), then run oxi retry ${taskId} again.`,
      });
    }
    const res = await callDaemon(adapter.paths.stateDir, { op: 'send', actor: `task:${taskId}`, event: { type: 'task.retry', by: operator() } });
    if (!res.ok) throw new UsageError(res.error);
    output(global, { task: taskId, from: task.status, event: 'task.retry', daemon: daemon.pid }, () => `sent task.retry to ${taskId} (was ${task.status}): it resumes now`);
  });
}
