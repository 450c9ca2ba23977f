/**
 * The hostile suite on an SSH host (a real sshd on loopback): the worker runs there, in a worktree of the host's own
 * clone whose `origin` is the engine's main clone. The attacks that apply there: reading the engine's environment
 * (loopback shares /proc), a tag `main` (pushed to origin too), writing main (in the host clone, pushed to origin),
 * and a process left running on the host that rewrites main after the merge.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostileBed, leaked, type HostileBed, type Item } from '../helpers/hostile-bed.js';
import { waitFor } from '../helpers/project.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

// Every remote command is a login over SSH: on a loaded 2-core machine one pass of the loop takes minutes.
const SSH_TICK_MS = 420_000;
const SSH_TEST_MS = 900_000;

let bed: HostileBed | undefined;
let sshd: TestSshd | undefined;
afterEach(async () => {
  await bed?.cleanup();
  await sshd?.cleanup();
  bed = undefined;
  sshd = undefined;
});

async function sshBed(items: Item[]): Promise<HostileBed> {
  const s = (sshd = await startSshd());
  bed = hostileBed({
    items,
    config: (c) => {
      c.hosts = [{
        name: 'alpha', kind: 'ssh', address: '127.0.0.1', port: s.port, user: s.user, identityFile: s.identityFile, knownHosts: s.knownHosts,
        maxWorkers: 1, mainClone: join(s.dir, 'clone'), worktreesRoot: join(s.dir, 'work'),
      }];
      c.engine = { ...c.engine, hostProbeIntervalMs: 500 };
    },
    afterCommit: (dir) => execFileSync('git', ['clone', '-q', dir, join(s.dir, 'clone')], { stdio: 'pipe' }),
  });
  bed.reportRoots.push(join(s.dir, 'work'));
  return bed;
}

describe('hostile agent on an SSH host', () => {
  it('control: the same change without a trick merges from the host', async () => {
    const b = await sshBed([{ id: 'T0-281', attack: 'none' }]);
    const run = await b.tick(SSH_TICK_MS);
    expect(run.code, run.output).toBe(0);
    expect(b.task('T0-281'), run.output).toMatchObject({ status: 'merged' });
    expect(b.fileOnMain('docs/T0-281.md')).toContain('Notes for T0-281');
  }, SSH_TEST_MS);

  it("reading /proc/*/environ on the host finds none of the engine's secrets", async () => {
    const b = await sshBed([{ id: 'T0-282', attack: 'environ' }]);
    const run = await b.tick(SSH_TICK_MS);
    expect(run.code, run.output).toBe(0);
    const found = leaked(b, b.haystack(run.output));
    expect(found, `found at ${JSON.stringify(b.whereLeaked(found))}; the worker reported ${JSON.stringify(b.reports('T0-282'))}`).toEqual([]);
  }, SSH_TEST_MS);

  it('a tag main (also pushed to origin) hides no workflow from review', async () => {
    const b = await sshBed([{ id: 'T0-283', attack: 'tag-main' }]);
    const run = await b.tick(SSH_TICK_MS);
    expect(run.code, run.output).toBe(0);
    const [report] = b.reports('T0-283');
    const evidence = `tasks ${JSON.stringify(b.tasks())}; the worker reported ${JSON.stringify(report)}`;
    expect(b.fileOnMain('.github/workflows/evil.yml'), evidence).toBeUndefined();
    expect(['awaiting_human', 'rejected'], evidence).toContain(b.task('T0-283')?.status);
  }, SSH_TEST_MS);

  it("main on the engine's side keeps the earlier merge whatever the host's worker pushes", async () => {
    const b = await sshBed([{ id: 'T0-284', attack: 'none' }]);
    const one = await b.tick(SSH_TICK_MS);
    expect(one.code, one.output).toBe(0);
    const merged = b.main();
    b.addItems([{ id: 'T0-285', attack: 'update-main' }]);
    const two = await b.tick(SSH_TICK_MS);
    expect(two.code, two.output).toBe(0);
    const [report] = b.reports('T0-285');
    const evidence = `main has ${JSON.stringify(b.mainFiles())}; tasks ${JSON.stringify(b.tasks())}; the worker reported ${JSON.stringify(report)}`;
    expect(b.isAncestor(merged, b.main()), evidence).toBe(true);
    expect(b.fileOnMain('pwned-T0-285.txt'), evidence).toBeUndefined();
  }, SSH_TEST_MS);

  it('a process left running on the host cannot rewrite main after the merge', async () => {
    const b = await sshBed([{ id: 'T0-286', attack: 'linger' }]);
    const run = await b.tick(SSH_TICK_MS);
    expect(run.code, run.output).toBe(0);
    expect(b.task('T0-286')).toMatchObject({ status: 'merged' });
    const merged = b.prMerge('T0-286');
    expect(merged).toMatch(/^[0-9a-f]{40}$/);
    const [report] = b.reports('T0-286');
    await waitFor('the lingering process to be gone', () => b.lingering().length === 0, 90_000);
    const evidence = `main has ${JSON.stringify(b.mainFiles())}; the worker reported ${JSON.stringify(report)}`;
    expect(b.isAncestor(merged!, b.main()), evidence).toBe(true);
    expect(b.fileOnMain('pwned-T0-286.txt'), evidence).toBeUndefined();
  }, SSH_TEST_MS);
});
