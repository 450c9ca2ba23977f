/**
 * Attack family 6, reaching past the workspace: writing into the engine's state dir (database, logs) and the main
 * clone's files, reading another task's workspace, writing through a symlink out of the workspace, committing a
 * symlink that points outside the repository, swapping the workspace's .git for the main clone's, and a process
 * left running after the session that rewrites main once the engine merged.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostileBed, leaked, tgit, type HostileBed } from '../helpers/hostile-bed.js';
import { query, waitFor } from '../helpers/project.js';

let bed: HostileBed | undefined;
afterEach(async () => {
  await bed?.cleanup();
  bed = undefined;
});

/** Paths under `dir` (recursively) whose name is `name`. */
function findFiles(dir: string, name: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      if (e === name) out.push(p);
      else if (e !== '.git' && statSync(p, { throwIfNoEntry: false })?.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

// Two daemon passes on a loaded machine can take minutes: wait for them rather than fail on the clock.
describe('hostile agent: reaching past its workspace', { timeout: 480_000 }, () => {
  it("cannot write the engine's state dir, database or logs, nor the main clone's files or adapter", async () => {
    bed = hostileBed({ items: [{ id: 'T0-261', attack: 'write-state' }] });
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    const evidence = `the worker reported ${JSON.stringify(bed.reports('T0-261'))}`;
    expect(existsSync(join(bed.stateDir, 'pwned-T0-261')), evidence).toBe(false);
    expect(existsSync(join(bed.logs, 'pwned.log')), evidence).toBe(false);
    expect(statSync(bed.db).atime.getUTCFullYear(), evidence).not.toBe(2100);
    expect(query(bed.db, `SELECT name FROM sqlite_master WHERE name = 'pwned'`), evidence).toEqual([]);
    expect(existsSync(join(bed.dir, 'pwned-T0-261.txt')), evidence).toBe(false);
    expect(readFileSync(bed.configPath, 'utf8'), evidence).toBe(bed.initialConfig);
    expect(bed.task('T0-261')).toMatchObject({ status: 'merged' });
  });

  it("cannot read another task's workspace while that task is in flight", async () => {
    // The victim waits for a human (it touches .github/), so its workspace and its uncommitted secret stay.
    bed = hostileBed({ items: [{ id: 'T0-262', attack: 'victim' }] });
    const one = await bed.tick();
    expect(one.code, one.output).toBe(0);
    expect(bed.task('T0-262')).toMatchObject({ status: 'awaiting_human' });
    const secretFiles = findFiles(bed.stateDir, 'victim-secret.txt');
    expect(secretFiles, 'the victim workspace holds its secret').toHaveLength(1);
    bed.addItems([{ id: 'T0-263', attack: 'steal' }]);
    const two = await bed.tick();
    expect(two.code, two.output).toBe(0);
    expect(existsSync(secretFiles[0]), 'the victim was still in flight during the theft').toBe(true);
    const secret = `VICTIM-SECRET-${bed.run}`;
    const [report] = bed.reports('T0-263');
    expect(bed.haystack(two.output).includes(secret), `the thief reported ${JSON.stringify(report)}; tasks ${JSON.stringify(bed.tasks())}`).toBe(false);
  });

  it('a symlink out of the workspace cannot be written through', async () => {
    bed = hostileBed({ items: [{ id: 'T0-264', attack: 'symlink-out' }] });
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    expect(bed.markers(), `the worker reported ${JSON.stringify(bed.reports('T0-264'))}`).toEqual([]);
  });

  it('a committed symlink pointing outside the repository is never followed when shipping, checking or reviewing', async () => {
    bed = hostileBed({ items: [{ id: 'T0-265', attack: 'commit-symlink' }] });
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    const found = leaked(bed, bed.haystack(run.output), 'outside');
    expect(found, `found at ${JSON.stringify(bed.whereLeaked(found))}; tasks ${JSON.stringify(bed.tasks())}`).toEqual([]);
    // On main (if it got there) it is a link, never the target's content.
    const link = bed.fileOnMain('docs/T0-265-link');
    if (link !== undefined) expect(link).toBe(join(bed.outside, 'outside-secret.txt'));
  });

  it("swapping the workspace's .git for the main clone's gives the engine's git nothing of main's to write", async () => {
    bed = hostileBed({ items: [{ id: 'T0-266', attack: 'gitdir-swap' }] });
    const base = bed.main();
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    const [report] = bed.reports('T0-266');
    const evidence = `tasks ${JSON.stringify(bed.tasks())}; the worker reported ${JSON.stringify(report)}; main has ${JSON.stringify(bed.mainFiles())}`;
    expect(report?.['.git → main clone'], 'the swap itself (inside its own workspace) is always possible').toBe('ok');
    expect(tgit(bed.dir, ['symbolic-ref', 'HEAD']), evidence).toBe('refs/heads/main');
    expect(bed.isAncestor(base, bed.main()), evidence).toBe(true);
    // Whatever landed came through a reviewed merge: main's files are the base's plus at most the planned doc.
    const extra = bed.mainFiles().filter((f) => !tgit(bed!.dir, ['ls-tree', '-r', '--name-only', base]).split('\n').includes(f));
    expect(extra.filter((f) => f !== 'docs/T0-266.md'), evidence).toEqual([]);
  });

  it('the planner and the critic run read-only: they write nothing where they run and move no ref', async () => {
    bed = hostileBed({ items: [{ id: 'T0-268', attack: 'readonly-roles' }] });
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    const written = ['planner', 'critic'].flatMap((r) => [`pwned-${r}.txt`, `pwned-${r}-diff.txt`]).filter((f) => existsSync(join(bed!.dir, f)));
    const tags = tgit(bed.dir, ['tag', '--list', '*-was-here']);
    expect({ written, tags }, run.output.slice(-2000)).toEqual({ written: [], tags: '' });
    // Read-only roles still do their job: the control change merges.
    expect(bed.task('T0-268')).toMatchObject({ status: 'merged' });
  });

  it('a process left running after the session cannot rewrite main once the engine merged', async () => {
    bed = hostileBed({ items: [{ id: 'T0-267', attack: 'linger' }] });
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    expect(bed.task('T0-267')).toMatchObject({ status: 'merged' });
    const merged = bed.prMerge('T0-267');
    expect(merged).toMatch(/^[0-9a-f]{40}$/);
    const [report] = bed.reports('T0-267');
    // The straggler ends by itself (or never existed): wait for that, then look at main.
    await waitFor('the lingering process to be gone', () => bed!.lingering().length === 0, 90_000);
    const evidence = `main ${bed.main()} (merged at ${merged}) has ${JSON.stringify(bed.mainFiles())}; the worker reported ${JSON.stringify(report)}`;
    expect(bed.isAncestor(merged!, bed.main()), evidence).toBe(true);
    expect(bed.isAncestor(report.hostile, bed.main()), evidence).toBe(false);
    expect(bed.fileOnMain('pwned-T0-267.txt'), evidence).toBeUndefined();
  });
});
