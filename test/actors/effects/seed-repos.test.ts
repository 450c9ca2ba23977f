/**
 * The seeder with several repositories: one roadmap per repository, ids `<repo>/<id>`, a vanished item
 * marked missing only in its own repository, and a task stored under its bare id before the adapter named
 * `repos` kept under that id (never ingested a second time). Real markdown files and SQLite.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seedRoadmap } from '../../../actors/effects/seed-roadmap.js';
import type { EffectDeps } from '../../../actors/effects/deps.js';
import { MarkdownRoadmapSource } from '../../../actors/roadmap/markdown-source.js';
import { ManualClock } from '../../../src/clock.js';
import { validateConfig } from '../../../src/config/validate.js';
import { openDb } from '../../../src/store/db.js';
import { ingestItems, listTasks } from '../../../src/store/tasks.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const roadmap = (ids: string[]) => `# Roadmap\n\n## Tier 0\n\n${ids.map((i) => `**${i} · item ${i}**\n_about ${i}_\n`).join('\n')}\n`;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-seed-repos-'));
  const db = openDb(join(dir, 'oxi.db'));
  cleanups.push(() => (db.close(), rmSync(dir, { recursive: true, force: true })));
  for (const r of ['acme', 'tools']) mkdirSync(join(dir, r));
  const adapter = validateConfig({ name: 'acme', repos: [{ name: 'acme', path: 'acme' }, { name: 'tools', path: 'tools' }], engine: { maxLiveTasks: 10 } }, { configPath: join(dir, 'oxi.config.json') });
  const write = (repo: string, ids: string[]) => writeFileSync(join(dir, repo, 'ROADMAP.md'), roadmap(ids));
  // Each repository's omitted roadmap is ROADMAP.md in its own clone.
  const roadmaps = new Map(['acme', 'tools'].map((r) => [r, new MarkdownRoadmapSource(join(dir, r, 'ROADMAP.md'))]));
  const deps = { db, clock: new ManualClock(), adapter, roadmaps } as unknown as EffectDeps;
  return { db, deps, write };
}

describe('seeder with several repositories', () => {
  it('ingests each repository\'s roadmap under <repo>/<id>, and marks a vanished item missing only in its repository', async () => {
    const { db, deps, write } = setup();
    write('acme', ['T0-1', 'T0-2']);
    write('tools', ['T0-1']);
    const first = await seedRoadmap(deps);
    expect(first.ledger).toEqual([
      { kind: 'seeder.ingested', payload: { added: ['acme/T0-1', 'acme/T0-2'] } },
      { kind: 'seeder.ingested', payload: { added: ['tools/T0-1'] } },
    ]);
    expect(listTasks(db).map((t) => [t.id, t.repo])).toEqual([['acme/T0-1', 'acme'], ['tools/T0-1', 'tools'], ['acme/T0-2', 'acme']]);
    expect(first.spawn.map((t) => t.id).sort()).toEqual(['acme/T0-1', 'acme/T0-2', 'tools/T0-1']);

    write('tools', []);
    const second = await seedRoadmap(deps);
    expect(second.ledger).toEqual([{ kind: 'seeder.missing', payload: { missing: ['tools/T0-1'] } }]);
    expect(listTasks(db).filter((t) => t.roadmap_state === 'missing').map((t) => t.id)).toEqual(['tools/T0-1']);
  });

  it('keeps a task stored under its bare id (before repos) under that id in its repository', async () => {
    const { db, deps, write } = setup();
    // From the single-repository days: tasks.repo held the adapter's name, the first repository's here.
    ingestItems(db, [{ id: 'T0-1', repo: 'acme', tier: 0, title: 'old', description: '', seq: 0 }], 0);
    write('acme', ['T0-1', 'T0-2']);
    write('tools', ['T0-1']);
    const out = await seedRoadmap(deps);
    expect(out.ledger).toEqual([
      { kind: 'seeder.ingested', payload: { added: ['acme/T0-2'] } },
      { kind: 'seeder.ingested', payload: { added: ['tools/T0-1'] } },
    ]);
    expect(listTasks(db).map((t) => t.id).sort()).toEqual(['T0-1', 'acme/T0-2', 'tools/T0-1']);
    expect(listTasks(db).find((t) => t.id === 'T0-1')?.roadmap_state).toBe('present');
  });
});
