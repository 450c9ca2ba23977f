import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rankBm25, tokenize } from '../../src/memory/bm25.js';
import { relevantLessons, writeEpisode } from '../../src/memory/file-memory.js';
import { makeRepo, type TestRepo } from '../helpers/git-repo.js';

let repo: TestRepo | undefined;
afterEach(() => repo?.cleanup());

describe('BM25', () => {
  const docs = [
    { id: 'a', text: 'sqlite migrations must be append-only; never edit a released migration' },
    { id: 'b', text: 'the dashboard websocket needs a token when bound beyond loopback' },
    { id: 'c', text: 'migration migration migration migration migration filler words about nothing else at all in this long document padding padding padding' },
    { id: 'd', text: 'tests for the parser live next to it' },
  ];
  it('ranks by term weight and length, not by substring hits', () => {
    const ranked = rankBm25(docs, (d) => d.text, 'add a sqlite migration for the tasks table');
    expect(ranked.map((r) => r.doc.id).slice(0, 2)).toEqual(['a', 'c']);
    expect(ranked.find((r) => r.doc.id === 'b')).toBeUndefined();
    // "dash" is a substring of "dashboard" but not a term: no hit.
    expect(rankBm25(docs, (d) => d.text, 'dash')).toEqual([]);
  });
  it('tokenizes with stop words dropped and plurals folded', () => {
    expect(tokenize('The Tests of the parsers')).toEqual(['test', 'parser']);
  });
});

describe('file memory', () => {
  it('the planner gets the few most relevant lessons; none configured means none, no error', () => {
    repo = makeRepo();
    const dir = join(repo.scratch, 'memory');
    mkdirSync(join(dir, 'db'), { recursive: true });
    writeFileSync(join(dir, 'db', 'migrations.md'), '# Migrations\nAppend a new numbered migration; never edit one that shipped.\n');
    writeFileSync(join(dir, 'css.md'), '# Styling\nUse the design tokens for colours.\n');
    writeFileSync(join(dir, 'notes.txt'), 'migration migration (not markdown: ignored)');
    const lessons = relevantLessons({ kind: 'file', dir }, 'Add a migration for the backend column', 3);
    expect(lessons.map((l) => l.path)).toEqual(['db/migrations.md']);
    expect(relevantLessons({ kind: 'none' }, 'anything')).toEqual([]);
    expect(relevantLessons({ kind: 'file', dir: join(repo.scratch, 'absent') }, 'anything')).toEqual([]);
  });

  it('writes an episodic note that later plans can find', () => {
    repo = makeRepo();
    const memory = { kind: 'file' as const, dir: join(repo.scratch, 'memory') };
    const file = writeEpisode(memory, { taskId: 'T0-7', title: 'Add retry to the webhook notifier', description: 'Retry failed webhook posts.', outcome: 'abandoned', reason: 'critic rejected twice', costUsd: 0.42, attempts: 3, backend: 'claude/claude-sonnet-4-5', criticReasons: ['reject: no test for the retry'], at: Date.UTC(2026, 0, 2) })!;
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# T0-7: Add retry to the webhook notifier');
    expect(text).toContain('- outcome: abandoned (critic rejected twice)');
    expect(text).toContain('- cost: $0.4200 over 3 attempt(s) on claude/claude-sonnet-4-5');
    expect(text).toContain('  - reject: no test for the retry');
    expect(relevantLessons(memory, 'webhook retries')[0].path).toBe('episodes/T0-7.md');
  });
});
