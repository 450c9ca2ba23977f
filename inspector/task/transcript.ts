/**
 * A task's agent transcript, read by byte offset from the stream files the engine keeps under
 * <logs>/<task>/ (planner, worker, critic: `<role>-a<attempt>[-f<fix>].ndjson`, the files `oxi tail`
 * follows). The page polls with the offset it got, so a running agent's transcript grows live.
 * Tasks on SSH hosts keep their streams on the host: only what was copied here is shown.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { taskStreamFiles } from '../../src/agents/stream-file.js';
import { join } from 'node:path';
import { transcriptItems, type TranscriptItem } from './transcript-items.js';

/** One poll reads at most this much: a long transcript arrives in pages. */
const PAGE = 512 * 1024;

export interface StreamFile {
  name: string;
  role: string;
  bytes: number;
  modifiedAt: number;
}

export interface TranscriptPage {
  schema: 'oxi.transcript.v1';
  task: string;
  files: StreamFile[];
  file: string | null;
  /** The offset asked for, and the one to ask with next (only complete lines are consumed). */
  offset: number;
  next: number;
  /** The file is shorter than the offset asked for (rewritten): the page starts again from 0. */
  reset: boolean;
  items: TranscriptItem[];
}

/** The task's agent stream files, oldest first (as `oxi tail` orders them). */
export function streamFiles(logsDir: string, taskId: string): StreamFile[] {
  return taskStreamFiles(logsDir, taskId).map(({ name, bytes, modifiedAt }) => ({ name, role: name.split('-')[0]!.replace(/\.ndjson$/, ''), bytes, modifiedAt }));
}

function readFrom(path: string, offset: number): { text: string; next: number; reset: boolean } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const reset = offset > size;
    const start = reset ? 0 : offset;
    const buffer = Buffer.alloc(Math.min(PAGE, size - start));
    const n = buffer.length ? readSync(fd, buffer, 0, buffer.length, start) : 0;
    // Only up to the last newline: a line still being written is read on the next poll.
    const end = buffer.subarray(0, n).lastIndexOf(0x0a) + 1;
    return { text: buffer.subarray(0, end).toString('utf8'), next: start + end, reset };
  } finally {
    closeSync(fd);
  }
}

/** `file` must be one of the task's stream files (by name); without it, the newest. */
export function readTranscript(logsDir: string, taskId: string, file: string | null, offset: number): TranscriptPage | { error: string } {
  const files = streamFiles(logsDir, taskId);
  const chosen = file ?? files.at(-1)?.name ?? null;
  const page: TranscriptPage = { schema: 'oxi.transcript.v1', task: taskId, files, file: chosen, offset, next: offset, reset: false, items: [] };
  if (!chosen) return page;
  if (!files.some((f) => f.name === chosen)) return { error: `No stream "${file}" for task ${taskId} (it has: ${files.map((f) => f.name).join(', ') || 'none'}).` };
  const { text, next, reset } = readFrom(join(logsDir, taskId, chosen), offset);
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      page.items.push(...transcriptItems(JSON.parse(line)));
    } catch {
      page.items.push({ kind: 'error', text: `unreadable stream line: ${line.slice(0, 200)}` });
    }
  }
  return { ...page, next, reset };
}
