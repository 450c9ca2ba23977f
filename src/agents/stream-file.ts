/**
 * Reads a growing NDJSON stream file incrementally: each `read()` returns the complete events
 * written since the last call. Bytes are decoded with a StringDecoder, so a UTF-8 character split
 * across two reads is never mangled; a line still being written stays pending.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { LogsRemovedError } from '../errors.js';
import { NdjsonSplitter } from './stream.js';

const CHUNK = 1 << 20;

export class StreamFileReader {
  private offset = 0;
  private readonly decoder = new StringDecoder('utf8');
  private readonly splitter = new NdjsonSplitter();

  constructor(private readonly path: string) {}

  /** Bytes consumed so far. */
  get position(): number {
    return this.offset;
  }

  /** New complete events since the last read (empty when the file does not exist yet). Raw lines on request. */
  read(onLine?: (line: string) => void): unknown[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    const events: unknown[] = [];
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.allocUnsafe(CHUNK);
      while (this.offset < size) {
        const n = readSync(fd, buffer, 0, Math.min(CHUNK, size - this.offset), this.offset);
        if (n <= 0) break;
        this.offset += n;
        const text = this.decoder.write(buffer.subarray(0, n));
        if (onLine) this.rawLines(text, onLine);
        events.push(...this.splitter.push(text));
      }
    } finally {
      closeSync(fd);
    }
    return events;
  }

  /** The last, unterminated line (only complete objects count: a truncated one is dropped). */
  end(): unknown[] {
    return this.splitter.end();
  }

  private pendingRaw = '';
  private rawLines(text: string, onLine: (line: string) => void): void {
    const parts = (this.pendingRaw + text).split('\n');
    this.pendingRaw = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') onLine(line);
  }
}

export interface TaskStreamFile {
  name: string;
  path: string;
  bytes: number;
  modifiedAt: number;
}

/** The output of a workspace setup (actors/setup/paths.ts): plain text, not an agent's NDJSON. */
export const isSetupLog = (name: string): boolean => name.startsWith('setup-') && name.endsWith('.log');

/**
 * A task's stream files under the engine's logs, oldest first: its agent sessions (`*.ndjson`) and, with
 * `setup`, its workspace setup's logs. What `oxi tail`, the dashboard's transcript and `oxi mcp` read.
 */
export function taskStreamFiles(logsDir: string, taskId: string, options: { setup?: boolean } = {}): TaskStreamFile[] {
  const dir = join(logsDir, taskId);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.ndjson') || (options.setup === true && isSetupLog(n)));
  } catch {
    return [];
  }
  return names
    .map((name) => {
      const st = statSync(join(dir, name));
      return { name, path: join(dir, name), bytes: st.size, modifiedAt: Math.round(st.mtimeMs) };
    })
    .sort((a, b) => a.modifiedAt - b.modifiedAt || a.name.localeCompare(b.name));
}

/** What `oxi tail` (and the dashboard's transcript) says of a task whose logs the janitor removed. */
export function logsRemoved(taskId: string, removedAt: number, keepMs: number): LogsRemovedError {
  const days = Math.round((keepMs / 86_400_000) * 10) / 10;
  return new LogsRemovedError(`The agent logs of task ${taskId} were removed by the janitor on ${new Date(removedAt).toISOString()}, ${days} days after the task ended (engine.janitor.logsKeepMs); there is no stream left to show.`, removedAt, {
    fix: `What the task did stays in the ledger (the dashboard's timeline of ${taskId}) and in its PR. To keep logs longer, raise engine.janitor.logsKeepMs in the adapter.`,
  });
}
