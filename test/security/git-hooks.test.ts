/**
 * Attack family 2, git config that runs code: a hostile worker plants hooks (core.hooksPath, .git/hooks), an
 * fsmonitor, an external diff, textconv, filter and merge drivers, an ssh command and a credential helper, in its
 * workspace and in the main clone when it can reach it. Whatever the engine's own git does afterwards (ship, fetch,
 * review, merge), none of it may run: the payload would leave a marker outside every workspace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostileBed, leaked, type HostileBed } from '../helpers/hostile-bed.js';

let bed: HostileBed | undefined;
afterEach(async () => {
  await bed?.cleanup();
  bed = undefined;
});

// Two daemon passes on a loaded machine can take minutes: wait for them rather than fail on the clock.
describe('hostile agent: planted git hooks and drivers', { timeout: 480_000 }, () => {
  it('no hook or driver an agent planted runs in any engine git, and the next task merges as before', async () => {
    bed = hostileBed({ items: [{ id: 'T0-211', attack: 'hooks' }] });
    const first = await bed.tick();
    expect(first.code, first.output).toBe(0);
    // The control: a benign task after the attack still goes through the whole loop.
    bed.addItems([{ id: 'T0-212', attack: 'none' }]);
    const second = await bed.tick();
    expect(second.code, second.output).toBe(0);
    const markers = bed.markers();
    const texts = markers.map((m) => readFileSync(join(bed!.outside, 'markers', m), 'latin1'));
    const ranWithSecrets = texts.filter((t) => leaked(bed!, t).length > 0);
    // Which hook or driver ran, by the name it was run as.
    const which = [...new Set(texts.map((t) => /^argv: (\S+)/.exec(t)?.[1]?.split('/').pop() ?? '?'))].sort();
    expect(
      markers,
      `${markers.length} payload run(s) (${which.join(', ')}), ${ranWithSecrets.length} with the engine's secrets in their environment; the worker reported ${JSON.stringify(bed.reports('T0-211'))}; tasks ${JSON.stringify(bed.tasks())}`,
    ).toEqual([]);
    expect(bed.task('T0-212')).toMatchObject({ status: 'merged' });
    expect(bed.fileOnMain('docs/T0-212.md')).toContain('Notes for T0-212');
  });
});
