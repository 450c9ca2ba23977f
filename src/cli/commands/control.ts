import { userInfo } from 'node:os';
import { endInterruptedPromotes } from '../../../actors/effects/promote-recovery.js';
import { systemClock } from '../../clock.js';
import { UsageError } from '../../errors.js';
import { makeNotifier } from '../../notify/notifier.js';
import { callDaemon } from '../../runtime/control.js';
import { clearKill, setKill } from '../../runtime/killswitch.js';
import { readPid } from '../../runtime/pidfile.js';
import { readKillswitch } from '../../store/engine-state.js';
import { output, withStore, type GlobalOptions } from '../context.js';

export function operator(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/**
 * Sets the killswitch in the database and the file (works with no daemon; honoured at start),
 * then tells a running daemon at once so the kill does not wait for its poll.
 */
export async function killCommand(global: GlobalOptions & { reason?: string; hard?: boolean }): Promise<void> {
  if (!global.reason || !global.reason.trim()) {
    throw new UsageError('oxi kill: expected --reason <text>, got none.', { fix: 'Say why, e.g. oxi kill --reason "bad deploy"' });
  }
  await withStore(global, async (adapter, db) => {
    const by = operator();
    setKill(db, adapter.paths.stateDir, { reason: global.reason!, by, hard: !!global.hard, at: Date.now() });
    const daemon = readPid(adapter.paths.stateDir);
    if (daemon) {
      await callDaemon(adapter.paths.stateDir, { op: 'send', actor: 'engineState', event: { type: 'engine.kill', reason: global.reason!, by, hard: !!global.hard } }).catch(() => undefined);
    }
    // A promote command whose runner died (a daemon or CLI killed mid-run) has nobody to stop it: it ends here.
    // Stdout is the command's answer (--json): the `log` notifier writes to stderr here.
    const notifier = makeNotifier(adapter, { out: { log: (s) => process.stderr.write(s), err: (s) => process.stderr.write(s) } });
    const promotesEnded = await endInterruptedPromotes({ db, clock: systemClock, notifier });
    if (promotesEnded) await notifier.flush(15_000);
    output(global, { killed: true, reason: global.reason, hard: !!global.hard, daemon: daemon ? daemon.pid : null, promotesEnded }, () =>
      `killed: ${global.reason}${global.hard ? ' (hard: running agents terminated)' : ' (running agents finish their turn)'}${daemon ? '' : '\nno daemon is running: the kill holds at its next start'}${promotesEnded ? `\n${promotesEnded} promote run(s) left by a dead process: stopped and recorded as interrupted` : ''}`,
    );
  });
}

export async function unkillCommand(global: GlobalOptions): Promise<void> {
  await withStore(global, async (adapter, db) => {
    const was = readKillswitch(db);
    clearKill(db, adapter.paths.stateDir, operator());
    const daemon = readPid(adapter.paths.stateDir);
    if (daemon) await callDaemon(adapter.paths.stateDir, { op: 'send', actor: 'engineState', event: { type: 'engine.unkill', by: operator() } }).catch(() => undefined);
    output(global, { killed: false, was: was.killed }, () => (was.killed ? 'resumed: every actor continues where it was' : 'the engine was not killed'));
  });
}

export async function sendCommand(global: GlobalOptions & { data?: string }, actor: string, eventType: string): Promise<void> {
  let data: Record<string, unknown> = {};
  if (global.data) {
    try {
      data = JSON.parse(global.data);
    } catch (error) {
      throw new UsageError(`--data: expected a JSON object, got ${JSON.stringify(global.data)} (${(error as Error).message}).`, { fix: `e.g. --data '{"reason":"x"}'` });
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError('--data: expected a JSON object.');
  }
  await withStore(global, async (adapter) => {
    const res = await callDaemon(adapter.paths.stateDir, { op: 'send', actor, event: { ...data, type: eventType } });
    if (!res.ok) throw new UsageError(res.error);
    output(global, { delivered: true, actor, event: eventType }, () => `delivered ${eventType} to ${actor}`);
  });
}
