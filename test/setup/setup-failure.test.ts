/**
 * A failing workspace setup under the real daemon: an environment error of the task, not its fault. A setup that
 * fails once and passes on the clean retry costs no attempt; one that fails again on the clean retry spends the
 * attempt, and a setup that never passes abandons the task with the log's first error line as the reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hostileBed, type HostileBed } from '../helpers/hostile-bed.js';
import { query } from '../helpers/project.js';

let bed: HostileBed | undefined;
afterEach(async () => {
  await bed?.cleanup();
  bed = undefined;
});

/** Fails while the cache directory has no `seen` file, creating it: the first run fails, the clean retry passes. */
const FLAKY = ['sh', '-c', 'seen="$(dirname "$npm_config_cache")/seen"; if [ -e "$seen" ]; then echo ok; else touch "$seen"; echo "error: the registry timed out"; exit 1; fi'];

describe('workspace setup failures under the daemon', { timeout: 480_000 }, () => {
  it('a setup failing once waits without spending an attempt, and the task is merged', async () => {
    bed = hostileBed({ items: [{ id: 'T0-251', attack: 'none' }], config: (c) => (c.workspace = { setup: { command: FLAKY } }) });
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    expect(bed.task('T0-251'), run.output).toMatchObject({ status: 'merged' });
    expect(query<{ attempt: number }>(bed.db, 'SELECT attempt FROM tasks WHERE id = ?', 'T0-251')[0].attempt).toBe(0);
    const notes = query<{ payload: string }>(bed.db, `SELECT payload FROM event WHERE kind = 'workspace.setup' ORDER BY id`).map((r) => JSON.parse(r.payload));
    expect(notes.map((n) => [n.ok, n.clean])).toEqual([[false, false], [true, true]]);
    expect(notes[0].reason).toContain('error: the registry timed out');
  });

  it('a setup that never passes spends an attempt per clean retry and abandons the task with its first error line', async () => {
    bed = hostileBed({
      items: [{ id: 'T0-252', attack: 'none' }],
      config: (c) => {
        c.workspace = { setup: { command: ['sh', '-c', 'echo resolving; echo "npm ERR! code ENOTARGET" ; exit 1'] } };
        c.policy = { ...c.policy, maxAttempts: 2 };
      },
    });
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    const task = query<{ status: string; attempt: number; reason: string }>(bed.db, 'SELECT status, attempt, reason FROM tasks WHERE id = ?', 'T0-252')[0];
    expect(task, run.output).toMatchObject({ status: 'abandoned', attempt: 1 });
    expect(task.reason).toContain('npm ERR! code ENOTARGET');
    // Two attempts, each a first run (an environment error) and its clean retry; no worker ever started.
    const notes = query<{ payload: string }>(bed.db, `SELECT payload FROM event WHERE kind = 'workspace.setup' ORDER BY id`).map((r) => JSON.parse(r.payload));
    expect(notes.map((n) => [n.attempt, n.ok, n.clean])).toEqual([[0, false, false], [0, false, true], [1, false, false], [1, false, true]]);
    expect(bed.reports('T0-252')).toEqual([]);
  });
});
