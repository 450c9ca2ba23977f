import { afterEach, describe, expect, it } from 'vitest';
import { engineProject, type EventRow } from '../helpers/engine-project.js';
import { gitSync } from '../helpers/git-repo.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every task also rewrites the same two files, so any two of them in flight at once would conflict. */
const sharedFiles = (s: { tasks: Record<string, Record<string, unknown>> }) => {
  for (const [id, task] of Object.entries(s.tasks)) {
    task.files = { ...(task.files as Record<string, string>), 'src/shared.js': `export const last = '${id}';\n`, 'CHANGELOG.md': `# Changelog\n\n- ${id}\n` };
  }
};

describe.each(['local', 'github'] as const)('overlap gate (%s forge)', (forge) => {
  it('five planned tasks touching the same files, five slots: zero merge conflicts, each waits its turn', { timeout: 240_000 }, async () => {
    const t = await engineProject({ tasks: 5, forge, cleanups, script: sharedFiles, maxWorkers: 5 });
    const exit = await t.run();
    expect(exit.code, exit.reason).toBe(0);
    const rows = t.tasks();
    expect(rows.map((r) => r.status)).toEqual(Array(5).fill('merged'));
    expect(t.events('auto_merge.conflict')).toEqual([]);
    expect(t.events('task.rejected')).toEqual([]);
    // The gate made them wait: at least four were deferred on overlap, and it is on their rows.
    const deferred = new Set(t.events('overlap.deferred').map((e) => e.task));
    expect(deferred.size).toBeGreaterThanOrEqual(4);
    expect(rows.filter((r) => r.last_deferred_at !== null).length).toBeGreaterThanOrEqual(4);
    // Each waited its turn: from slot to merge, no two tasks' spans overlap in the ledger.
    const first = (list: EventRow[], id: string) => list.find((e) => e.task === id)!.id;
    const spans = rows
      .map((r) => ({ id: r.id, from: first(t.events('task.provisioning'), r.id), to: first(t.events('task.merged'), r.id) }))
      .sort((a, b) => a.from - b.from);
    for (let i = 1; i < spans.length; i++) expect(spans[i].from, `${spans[i].id} started before ${spans[i - 1].id} merged`).toBeGreaterThan(spans[i - 1].to);
    // The last task to merge wrote the shared file last; every task's own work reached main.
    const last = spans.at(-1)!.id;
    const main = (path: string) => (t.gh ? t.gh.git(['show', `main:${path}`]) : gitSync(t.p.dir, ['show', `main:${path}`]));
    expect(main('src/shared.js')).toContain(last);
    for (const name of ['double', 'square', 'negate', 'half', 'increment']) expect(main(`src/${name}.js`)).toContain(name);
  });
});
