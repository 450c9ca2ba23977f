/**
 * The janitor's rule for what it may delete, as the engine's machine keeps it (leftovers.ts) and as an SSH host's
 * script keeps it (ssh/remote-janitor.ts, run here through the local transport; test/actors/effects/janitor-hosts
 * runs it over a real sshd): the same verdict for every path, and only the allowed paths are gone afterwards.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeLocalLeftovers, runRemovalScript, type LeftoverReport, type Leftovers } from '../../../actors/hosts/leftovers.js';
import { removeRemoteLogDirs } from '../../../actors/hosts/log-dirs.js';
import { LocalHost } from '../../../actors/hosts/local-host.js';
import { removeRemoteLeftovers } from '../../../actors/hosts/ssh/remote-janitor.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** A worktrees root with workspaces, a clone beside it, and traps outside it. */
function bed() {
  const top = mkdtempSync(join(tmpdir(), 'oxi-leftovers-'));
  dirs.push(top);
  const root = join(top, 'work');
  const ns = join(root, 'proj-default');
  const outside = join(top, 'precious');
  const clone = join(top, 'clone');
  mkdirSync(join(outside, 'ws'), { recursive: true });
  writeFileSync(join(outside, 'ws', 'keep.txt'), 'mine');
  for (const name of ['T1', 'T2', 'T3', "it's a ws", 'live']) {
    mkdirSync(join(ns, name, 'deep', 'er'), { recursive: true });
    writeFileSync(join(ns, name, 'deep', 'er', 'f.txt'), name);
  }
  // A read-only tree (what Go's module cache leaves) and a half-made sibling.
  chmodSync(join(ns, 'T2', 'deep', 'er'), 0o500);
  chmodSync(join(ns, 'T2', 'deep'), 0o500);
  mkdirSync(join(ns, 'T1.partial'));
  symlinkSync(outside, join(ns, 'link-out'));
  symlinkSync(join(ns, 'live'), join(ns, 'link-in'));
  symlinkSync(outside, join(root, 'linked-parent'));
  mkdirSync(clone);
  git(clone, 'init', '-q', '-b', 'main');
  git(clone, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'one');
  for (const ref of ['refs/heads/oxi/t1', 'refs/remotes/origin/oxi/t1', 'refs/oxi/tasks/T1', 'refs/remotes/origin/main']) git(clone, 'update-ref', ref, 'HEAD');
  return { top, root, ns, outside, clone };
}

type Bed = ReturnType<typeof bed>;

/** Each case: the row's workspace, and the verdict both sides must give. */
function cases(b: Bed): Array<[string, keyof LeftoverReport]> {
  return [
    [join(b.ns, 'T1'), 'removed'],
    [join(b.ns, 'T2'), 'removed'],
    [join(b.ns, "it's a ws"), 'removed'],
    [join(b.ns, 'gone'), 'gone'],
    [join(b.ns, 'link-out'), 'refused'],
    [join(b.ns, 'link-in'), 'refused'],
    [join(b.root, 'linked-parent', 'ws'), 'refused'],
    [`${b.ns}/../../precious`, 'refused'],
    [b.root, 'refused'],
    [b.ns, 'refused'],
    [`${b.ns}/.`, 'refused'],
    [b.top, 'refused'],
  ];
}

const item = (b: Bed, workspace: string, refs: string[] = []): Leftovers => ({ root: b.root, workspace, clone: b.clone, refs, mainBranch: 'main' });

function verdicts(reports: LeftoverReport[], paths: string[]): string[] {
  return paths.map((p, i) => (Object.keys(reports[i]) as Array<keyof LeftoverReport>).find((k) => reports[i][k].includes(p)) ?? 'none');
}

describe('what the janitor may delete', () => {
  for (const side of ['the engine\'s machine', 'an SSH host\'s script'] as const) {
    it(`on ${side}: only directories two levels inside the root, reached without a link; traps and the live workspace stay`, async () => {
      const b = bed();
      const table = cases(b);
      const items = table.map(([ws]) => item(b, ws));
      const reports = side === 'the engine\'s machine'
        ? await Promise.all(items.map((i) => removeLocalLeftovers(i)))
        : await removeRemoteLeftovers(new LocalHost('local'), items, 30_000);
      expect(verdicts(reports, table.map(([ws]) => ws))).toEqual(table.map(([, v]) => v));
      expect(reports[0].removed).toEqual([join(b.ns, 'T1'), join(b.ns, 'T1.partial')]);
      for (const [ws, v] of table) if (v === 'removed') expect(existsSync(ws)).toBe(false);
      expect(existsSync(join(b.outside, 'ws', 'keep.txt'))).toBe(true);
      expect(existsSync(join(b.ns, 'live', 'deep', 'er', 'f.txt'))).toBe(true);
      expect(existsSync(join(b.ns, 'link-in'))).toBe(true);
      expect(existsSync(join(b.clone, '.git'))).toBe(true);
    });

    it(`on ${side}: refs go from the clone, never its checked-out branch or main; never the clone itself or a folder holding it`, async () => {
      const b = bed();
      const run = (items: Leftovers[]) => (side === 'the engine\'s machine' ? Promise.all(items.map((i) => removeLocalLeftovers(i))) : removeRemoteLeftovers(new LocalHost('local'), items, 30_000));
      const refs = ['refs/heads/oxi/t1', 'refs/remotes/origin/oxi/t1', 'refs/oxi/tasks/T1', 'refs/heads/main', 'refs/remotes/origin/main', 'refs/heads/absent'];
      const [report] = await run([item(b, join(b.ns, 'T3'), refs)]);
      expect(report.removed).toEqual([join(b.ns, 'T3'), ...refs.slice(0, 3)]);
      expect(git(b.clone, 'for-each-ref', '--format=%(refname)').split('\n').sort()).toEqual(['refs/heads/main', 'refs/remotes/origin/main']);
      // A clone kept under the worktrees root: a row naming it, or the folder holding it, never takes it.
      const holder = join(b.ns, 'holder');
      mkdirSync(holder);
      execFileSync('mv', [b.clone, join(holder, 'clone')]);
      const clone = join(holder, 'clone');
      const reports = await run([{ ...item(b, holder), clone }, { ...item(b, clone), clone }]);
      expect(reports.map((r) => r.refused)).toEqual([[holder], [clone]]);
      expect(existsSync(join(clone, '.git'))).toBe(true);
    });
  }

  it('a removal script\'s report: stray lines (a shell profile\'s, or words naming no field like `constructor`) are ignored; a path with backslashes is read as written', async () => {
    const script = `printf '%s\\n' 'constructor x' 'item 0' 'toString y' '__proto__ z' 'hasOwnProperty w' 'removed a' 'done 0'`;
    expect(await runRemovalScript(new LocalHost('local'), script, [], 1, 30_000)).toEqual([{ removed: ['a'], gone: [], refused: [], failed: [] }]);
    // The hosts' scripts print paths with printf: sh's echo would turn `\t` into a tab.
    const root = mkdtempSync(join(tmpdir(), 'oxi-script-'));
    try {
      const odd = join(root, 'a\\tb\\c');
      expect(await removeRemoteLogDirs(new LocalHost('local'), [{ root, dir: odd }], 30_000)).toEqual([{ removed: [], gone: [odd], refused: [], failed: [] }]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
