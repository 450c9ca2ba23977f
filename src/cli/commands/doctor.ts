import { resolve } from 'node:path';
import { doctorContext, runDoctor } from '../../doctor/run.js';
import { hostReportsOf } from '../../doctor/ssh-hosts.js';
import type { CheckResult } from '../../doctor/types.js';
import { DaemonError } from '../../errors.js';
import { readPid } from '../../runtime/pidfile.js';
import { repairDb } from '../../store/repair.js';
import { color, output, resolveAdapter, type GlobalOptions } from '../context.js';

const MARK: Record<CheckResult['status'], (s: string) => string> = {
  ok: (s) => color.green(s),
  warn: (s) => color.yellow(s),
  fail: (s) => color.red(s),
  skip: (s) => color.dim(s),
};

/** Exit 0 when nothing failed (warnings allowed), 1 otherwise. */
export async function doctorCommand(global: GlobalOptions & { live?: boolean; repair?: boolean }): Promise<number> {
  if (global.repair) await repairCommand(global);
  const ctx = doctorContext({ cwd: process.cwd(), configPath: global.config ? resolve(global.config) : undefined, dbOverride: global.db, live: global.live === true });
  const line = (r: CheckResult) => `${MARK[r.status](r.status.padEnd(4))}  ${r.id.padEnd(20)} ${r.detail}${r.fix && r.status !== 'ok' ? `\n      ${color.dim('fix:')} ${r.fix}` : ''}`;
  // Human mode prints each check as it completes: agent CLIs and the forge can take seconds.
  const report = await runDoctor(ctx, (r) => {
    if (!global.json) process.stdout.write(`${line(r)}\n`);
  });
  if (global.json) output(global, { ...report, hosts: hostReportsOf(ctx) }, () => '');
  else {
    const { ok, warn, fail, skip } = report.counts;
    process.stdout.write(`\n${fail ? color.red(`${fail} problem${fail === 1 ? '' : 's'}`) : color.green('no problems')} · ${ok} ok · ${warn} warning${warn === 1 ? '' : 's'} · ${skip} skipped\n`);
  }
  return report.ok ? 0 : 1;
}

/** `--repair`: the readable rows into a new file, the damaged one kept beside it; then the usual checks. */
async function repairCommand(global: GlobalOptions): Promise<void> {
  const adapter = await resolveAdapter(global);
  const daemon = readPid(adapter.paths.stateDir);
  if (daemon) throw new DaemonError(`oxi doctor --repair: expected no daemon on this database, found pid ${daemon.pid}.`, { fix: 'Stop it first (SIGTERM drains; systemctl --user stop … for a service), then run oxi doctor --repair again.' });
  const report = repairDb(adapter.paths.db);
  const lines = report.tables.map((t) => `  ${t.table.padEnd(22)} ${t.copied} row(s) copied${t.lost === null ? ', the rest unreadable' : t.lost ? `, ${t.lost} lost` : ''}`);
  const say = global.json ? (s: string) => process.stderr.write(s) : (s: string) => process.stdout.write(s);
  say(`repaired ${report.file}: readable rows copied into a new file; the damaged one is kept as ${report.keptAs}\n${lines.join('\n')}\n\n`);
}
