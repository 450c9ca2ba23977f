/**
 * Attack family 4, writing main directly: after a first task merged, a hostile worker builds a commit H that drops
 * that merge and adds a file, then tries every way to point the real main at H: update-ref in its workspace, push to
 * the main clone (after allowing pushes to its checked-out branch), GIT_DIR and `git -C` at the main clone, and
 * GIT_WORK_TREE to stage into the main clone's index. main must be untouched by all of it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostileBed, tgit, type HostileBed } from '../helpers/hostile-bed.js';

let bed: HostileBed | undefined;
afterEach(async () => {
  await bed?.cleanup();
  bed = undefined;
});

// Two daemon passes on a loaded machine can take minutes: wait for them rather than fail on the clock.
describe('hostile agent: direct writes to main', { timeout: 480_000 }, () => {
  it('main keeps the earlier merge and never gets the hostile commit; the merged task stays truly merged', async () => {
    bed = hostileBed({ items: [{ id: 'T0-241', attack: 'none' }] });
    const one = await bed.tick();
    expect(one.code, one.output).toBe(0);
    expect(bed.task('T0-241')).toMatchObject({ status: 'merged' });
    const merged = bed.main();
    bed.addItems([{ id: 'T0-242', attack: 'update-main' }]);
    const two = await bed.tick();
    expect(two.code, two.output).toBe(0);
    const [report] = bed.reports('T0-242');
    const evidence = `main ${bed.main()} has ${JSON.stringify(bed.mainFiles())}; tasks ${JSON.stringify(bed.tasks())}; the worker reported ${JSON.stringify(report)}`;
    expect(report?.hostile, 'the worker built its hostile commit').toMatch(/^[0-9a-f]{40}$/);
    expect(bed.isAncestor(merged, bed.main()), evidence).toBe(true);
    expect(bed.isAncestor(report.hostile, bed.main()), evidence).toBe(false);
    expect(bed.fileOnMain('pwned-T0-242.txt'), evidence).toBeUndefined();
    expect(bed.fileOnMain('docs/T0-241.md'), evidence).toContain('Notes for T0-241');
    expect(bed.task('T0-241')).toMatchObject({ status: 'merged' });
    // GIT_WORK_TREE/GIT_DIR at the main clone: nothing written into its files or staged in its index.
    expect(existsSync(join(bed.dir, 'pwned-wt-T0-242.txt')), evidence).toBe(false);
    expect(tgit(bed.dir, ['ls-files', '--', 'pwned-wt-T0-242.txt']), evidence).toBe('');
    let deny = 'unset';
    try {
      deny = tgit(bed.dir, ['config', '--get', 'receive.denyCurrentBranch']);
    } catch {
      /* unset: git's default refuses */
    }
    expect(deny, evidence).not.toBe('ignore');
  });
});
