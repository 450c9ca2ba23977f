/** The dashboard feed (inspector/feed.ts) over a real SQLite file: what a page's hello leaves for the next look. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFeed, type Feed, type FeedMessage } from '../../inspector/feed.js';
import { validateConfig } from '../../src/config/validate.js';
import { openDb } from '../../src/store/db.js';
import { writeKillswitch } from '../../src/store/engine-state.js';
import { ingestItems } from '../../src/store/tasks.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-feed-'));
const adapter = validateConfig({ name: 'feed' }, { configPath: join(dir, 'oxi.config.json') });
const db = openDb(adapter.paths.db);
ingestItems(db, Array.from({ length: 30 }, (_, i) => ({ id: `T0-${i + 1}`, repo: 'feed', tier: 0, title: `Task ${i}`, description: '', seq: i })), Date.now());
const feeds: Feed[] = [];
afterEach(() => {
  for (const f of feeds.splice(0)) f.close();
  writeKillswitch(db, { killed: false, hard: false, reason: null, by: null, at: null });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A feed whose poll never fires during a test: every look is the test's `refresh()` (the whole look, synchronous). */
function feed(): Feed {
  const f = createFeed({ db, adapter, pollMs: 3_600_000 });
  feeds.push(f);
  return f;
}
/** A page: its messages after its hello. */
function page(f: Feed): { got: FeedMessage[]; hello: FeedMessage } {
  const got: FeedMessage[] = [];
  f.subscribe((m) => got.push(m));
  return { got, hello: f.hello() };
}

describe('hello', () => {
  it('is the only page\'s whole look: the next look sends nothing until something changes, then the change', () => {
    const f = feed();
    const a = page(f);
    expect(a.hello.type === 'hello' && a.hello.snapshot.tasks).toHaveLength(30);
    f.refresh();
    expect(a.got.map((m) => m.type)).toEqual([]);
    writeKillswitch(db, { killed: true, hard: false, reason: 'feed test', by: 'test', at: Date.now() });
    f.refresh();
    const summary = a.got.find((m) => m.type === 'summary');
    expect(summary?.type === 'summary' && summary.summary.engine.killed).toBe(true);
  });

  it('a second page\'s hello does not hide from the first a change it has not been sent', () => {
    const f = feed();
    const a = page(f);
    writeKillswitch(db, { killed: true, hard: false, reason: 'before the second page', by: 'test', at: Date.now() });
    const b = page(f);
    expect(b.hello.type === 'hello' && b.hello.snapshot.engine.killed).toBe(true);
    f.refresh();
    const summary = a.got.find((m) => m.type === 'summary');
    expect(summary?.type === 'summary' && summary.summary.engine.reason).toBe('before the second page');
  });
});
