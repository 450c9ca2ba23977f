/**
 * `oxi tail <taskId>`: follows the task's agent streams (planner, worker, critic — the raw NDJSON kept
 * under <logs>/<taskId>/) and its workspace setup's output (`setup-*.log`, plain text) in human form, or raw
 * with --json (a setup line as `{"type":"oxi.setup","line":...}`). It moves on to each newer stream as the
 * task goes from role to role, and stops when the task is merged or abandoned (or with --no-follow,
 * once everything written so far is printed). Requests the agent's network proxy refused (ledger
 * `network.denied`, agents.network "allowlist") are shown between the stream's lines as they happen.
 */
import { renderEvent } from '../../agents/render.js';
import { isSetupLog, logsRemoved, StreamFileReader, taskStreamFiles } from '../../agents/stream-file.js';
import { UsageError } from '../../errors.js';
import { logsRemovedAt } from '../../store/task-logs.js';
import { openDb } from '../../store/db.js';
import { listEvents, type LedgerRow } from '../../store/ledger.js';
import { getTask } from '../../store/tasks.js';
import { resolveAdapter, type GlobalOptions } from '../context.js';

const POLL_MS = 250;

/** One refused network request as a line (human), or as a JSON object among the stream's (`--json`). */
export function renderDenial(row: LedgerRow, json: boolean): string {
  const p = JSON.parse(row.payload) as { role?: string; method?: string; host?: string; port?: number; reason?: string };
  if (json) return JSON.stringify({ type: 'oxi.network.denied', at: row.at, task: row.task, ...p });
  return `⛔ network denied (${p.role ?? 'agent'}): ${p.method ?? '?'} ${p.host}:${p.port} — ${p.reason ?? 'not allowed'}`;
}

/** The task's stream files, oldest first (by modification time, then name). */
/** The task's stream files, oldest first, setup logs included (paths). */
export function streamFiles(logsDir: string, taskId: string): string[] {
  return taskStreamFiles(logsDir, taskId, { setup: true }).map((f) => f.path);
}

export { isSetupLog };

export async function tailCommand(global: GlobalOptions & { follow?: boolean }, taskId: string, write: (s: string) => void = (s) => process.stdout.write(s), until?: AbortSignal): Promise<void> {
  const adapter = await resolveAdapter(global);
  const db = openDb(adapter.paths.db, { readonly: true });
  try {
    if (!getTask(db, taskId)) {
      throw new UsageError(`No task "${taskId}" in ${adapter.paths.db}.`, { fix: 'Pass a task id that `oxi tasks` lists (ids are case-sensitive, e.g. T0-101).' });
    }
    const removedAt = logsRemovedAt(db, taskId);
    if (removedAt !== undefined && streamFiles(adapter.paths.logs, taskId).length === 0) throw logsRemoved(taskId, removedAt, adapter.engine.janitor.logsKeepMs);
    const readers = new Map<string, StreamFileReader>();
    const emit = (file: string, reader: StreamFileReader, final: boolean) => {
      const show = (event: unknown) => {
        const line = renderEvent(event);
        if (line) write(`${line}\n`);
      };
      if (isSetupLog(file.slice(file.lastIndexOf('/') + 1))) {
        reader.read((raw) => write(global.json ? `${JSON.stringify({ type: 'oxi.setup', line: raw })}\n` : `⚙ setup: ${raw}\n`));
      } else if (global.json) {
        reader.read((raw) => write(`${raw}\n`));
      } else {
        const events = reader.read();
        if (readers.size > 1 && events.length && !announced.has(file)) {
          announced.add(file);
          write(`── ${file.slice(file.lastIndexOf('/') + 1)}\n`);
        }
        for (const e of events) show(e);
        if (final) for (const e of reader.end()) show(e);
      }
    };
    const announced = new Set<string>();
    let lastDenial = 0;
    const denials = () => {
      for (const row of listEvents(db, { task: taskId, kindPrefix: 'network.denied', afterId: lastDenial })) {
        lastDenial = row.id;
        write(`${renderDenial(row, !!global.json)}\n`);
      }
    };
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    until?.addEventListener('abort', onSigint, { once: true });
    process.once('SIGINT', onSigint);
    try {
      for (;;) {
        for (const file of streamFiles(adapter.paths.logs, taskId)) {
          if (!readers.has(file)) readers.set(file, new StreamFileReader(file));
          emit(file, readers.get(file)!, false);
        }
        denials();
        const status = getTask(db, taskId)?.status;
        const done = global.follow === false || status === 'merged' || status === 'abandoned' || stop.signal.aborted;
        if (done) {
          for (const [file, reader] of readers) emit(file, reader, true);
          return;
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  } finally {
    db.close();
  }
}
