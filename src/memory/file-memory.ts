/**
 * File-backed memory: a folder of markdown lessons. The planner gets the few most relevant to its item
 * (BM25); after each merged or abandoned task the engine writes a short episodic note into `episodes/`,
 * which later plans can find the same way. No memory configured: no lessons, no notes, no error.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { MemoryConfig } from '../config/schema.js';
import { rankBm25 } from './bm25.js';

export interface Lesson {
  /** Path relative to the memory folder. */
  path: string;
  text: string;
}

const MAX_FILES = 2000;
const MAX_CHARS_PER_LESSON = 2000;

function readLessons(dir: string): Lesson[] {
  const out: Lesson[] = [];
  const walk = (at: string) => {
    let names: string[];
    try {
      names = readdirSync(at);
    } catch {
      return; // a missing folder is an empty memory
    }
    for (const name of names.sort()) {
      if (out.length >= MAX_FILES || name.startsWith('.')) continue;
      const path = join(at, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(path);
      else if (st?.isFile() && name.endsWith('.md')) out.push({ path: relative(dir, path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(dir);
  return out;
}

/** The `limit` lessons most relevant to `query`, best first. */
export function relevantLessons(memory: MemoryConfig, query: string, limit = 3): Lesson[] {
  if (memory.kind !== 'file') return [];
  return rankBm25(readLessons(memory.dir), (l) => `${l.path.replace(/[-_/.]/g, ' ')} ${l.text}`, query)
    .slice(0, limit)
    .map((r) => ({ path: r.doc.path, text: r.doc.text.slice(0, MAX_CHARS_PER_LESSON) }));
}

/** Lessons as prompt text (empty string when there are none). */
export function lessonsText(lessons: readonly Lesson[]): string {
  return lessons.map((l) => `--- ${l.path}\n${l.text.trim()}`).join('\n\n');
}

export interface Episode {
  taskId: string;
  title: string;
  description: string;
  outcome: 'merged' | 'abandoned';
  reason?: string | null;
  costUsd: number;
  attempts: number;
  backend?: string | null;
  criticReasons: string[];
  at: number;
}

/** Writes `episodes/<task>.md` (rewritten if the task ends again after a requeue); returns its path. */
export function writeEpisode(memory: MemoryConfig, e: Episode): string | undefined {
  if (memory.kind !== 'file') return undefined;
  const dir = join(memory.dir, 'episodes');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${e.taskId.replace(/[^A-Za-z0-9._-]/g, '_')}.md`);
  const lines = [
    `# ${e.taskId}: ${e.title}`,
    '',
    `- asked: ${e.description.trim().replace(/\s+/g, ' ') || '(no description)'}`,
    `- outcome: ${e.outcome}${e.reason ? ` (${e.reason})` : ''}`,
    `- cost: $${e.costUsd.toFixed(4)} over ${e.attempts} attempt(s)${e.backend ? ` on ${e.backend}` : ''}`,
    `- when: ${new Date(e.at).toISOString()}`,
  ];
  if (e.criticReasons.length) lines.push('- critic:', ...e.criticReasons.map((r) => `  - ${r}`));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
