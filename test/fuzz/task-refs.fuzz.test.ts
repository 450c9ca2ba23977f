/**
 * Property: whatever sequence of ref updates an agent makes in its own workspace (commits, tags and branches named
 * `main`, `HEAD` or like a sha, resets, detached heads, orphan commits, force-moves of its task branch), what lands on
 * main is exactly the reviewed base_sha..head_sha diff, or nothing lands.
 *
 * Runs the engine's own git-level path (actors/hosts/workspace.ts, actors/git/git.ts): fetchTaskHead into refs/oxi/tasks/<id>,
 * reviewBase against the base recorded at provisioning (the reviewed diff is reviewBase..head), then at merge time
 * assertReviewedRange and squashMerge guarded by the head sha, as the merge effect does.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { squashMerge } from '../../actors/git/git.js';
import { assertReviewedRange, fetchTaskHead, reviewBase } from '../../actors/hosts/workspace.js';
import { announceSeed, fuzzParams } from './settings.js';

announceSeed('task-refs');
// Each case is a few dozen git processes: fewer cases than the pure fuzzers in `npm test`, all of them in `npm run fuzz`.
const RUNS = Math.min(Number(process.env.OXI_FUZZ_RUNS ?? 12), 400);

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
const ID = ['-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'core.hooksPath=/dev/null', '-c', 'init.defaultBranch=main'];
function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', [...ID, ...args], { cwd, encoding: 'utf8', input, env: ENV, stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}
function tryGit(cwd: string, args: string[]): string | undefined {
  try {
    return git(cwd, args);
  } catch {
    return undefined;
  }
}

/** One thing an agent does in its workspace; `at` picks a commit among those it knows (base's parent, base, its own). */
type Op =
  | { kind: 'commit'; file: string; text: string }
  | { kind: 'orphan'; file: string }
  | { kind: 'tag' | 'branch'; name: string; at: number }
  | { kind: 'reset' | 'detach' | 'force-branch' | 'checkout-B'; at: number };

const names = fc.constantFrom('main', 'HEAD', 'refs/heads/main', 'origin/main', 'oxi/T1', 'SHA', 'SHORTSHA', 'oxi/tasks/T1');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit' as const), file: fc.constantFrom('a.txt', 'c.txt', '.github/workflows/x.yml', 'd/e.txt', 'oxi.config.json'), text: fc.string({ maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('orphan' as const), file: fc.constantFrom('a.txt', 'z.txt') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('tag' as const, 'branch' as const), name: names, at: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('reset' as const, 'detach' as const, 'force-branch' as const, 'checkout-B' as const), at: fc.nat(20) }) },
);

/** Replays the ops in the workspace; failures of an op are the agent's problem, never the property's. */
function play(ws: string, base: string, known: string[], ops: Op[]): void {
  let n = 0;
  const pick = (at: number) => known[at % known.length];
  const refName = (name: string) => (name === 'SHA' ? base : name === 'SHORTSHA' ? base.slice(0, 12) : name);
  for (const o of ops) {
    switch (o.kind) {
      case 'commit': {
        mkdirSync(dirname(join(ws, o.file)), { recursive: true });
        writeFileSync(join(ws, o.file), `${o.text}\n${n++}\n`);
        if (tryGit(ws, ['add', '--', o.file]) !== undefined && tryGit(ws, ['commit', '-qm', `c${n}`]) !== undefined) known.push(git(ws, ['rev-parse', 'HEAD']));
        break;
      }
      case 'orphan':
        if (tryGit(ws, ['checkout', '-q', '--orphan', `orphan-${n++}`]) !== undefined) {
          writeFileSync(join(ws, o.file), `orphan ${n}\n`);
          tryGit(ws, ['add', '--', o.file]);
          if (tryGit(ws, ['commit', '-qm', 'orphan']) !== undefined) known.push(git(ws, ['rev-parse', 'HEAD']));
        }
        break;
      case 'tag':
        tryGit(ws, ['update-ref', `refs/tags/${refName(o.name)}`, pick(o.at)]);
        break;
      case 'branch':
        tryGit(ws, ['update-ref', o.name.startsWith('refs/') ? o.name : `refs/heads/${refName(o.name)}`, pick(o.at)]);
        break;
      case 'reset':
        tryGit(ws, ['reset', '-q', '--hard', pick(o.at)]);
        break;
      case 'detach':
        tryGit(ws, ['checkout', '-q', '--detach', pick(o.at)]);
        break;
      case 'force-branch':
        tryGit(ws, ['update-ref', 'refs/heads/oxi/T1', pick(o.at)]);
        break;
      case 'checkout-B':
        tryGit(ws, ['checkout', '-q', '-B', 'oxi/T1', pick(o.at)]);
        break;
    }
  }
}

const refsOf = (repo: string) => git(repo, ['for-each-ref', '--format=%(refname) %(objectname)']).split('\n').filter((l) => l && !l.startsWith('refs/oxi/tasks/'));

describe('property: only the reviewed base..head reaches main', () => {
  // One main clone made once and copied per case: two commits, a.txt and b.txt.
  let template = '';
  beforeAll(() => {
    template = mkdtempSync(join(tmpdir(), 'oxi-refs-template-'));
    git(template, ['init', '-q', '-b', 'main']);
    writeFileSync(join(template, 'a.txt'), 'a\n');
    git(template, ['add', '-A']);
    git(template, ['commit', '-qm', 'first']);
    writeFileSync(join(template, 'b.txt'), 'b\n');
    git(template, ['add', '-A']);
    git(template, ['commit', '-qm', 'second']);
  });
  afterAll(() => rmSync(template, { recursive: true, force: true }));

  it('for any ref updates in the workspace, main gets exactly base_sha..head_sha or nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        const root = mkdtempSync(join(tmpdir(), 'oxi-refs-'));
        try {
          const main = join(root, 'main');
          cpSync(template, main, { recursive: true });
          const baseSha = git(main, ['rev-parse', 'refs/heads/main']);
          const ws = join(root, 'ws');
          git(root, ['clone', '-q', '--shared', '--no-checkout', main, ws]);
          git(ws, ['checkout', '-q', '-b', 'oxi/T1', baseSha]);
          play(ws, baseSha, [git(main, ['rev-parse', `${baseSha}~1`]), baseSha], ops);
          const refsBefore = refsOf(main);

          let head: string | undefined;
          try {
            head = await fetchTaskHead(main, ws, 'oxi/T1', 'T1');
          } catch {
            head = undefined; // a workspace with no usable head ships nothing
          }
          // Fetching from the workspace wrote no ref of the main clone but the task's own (and its PR branch).
          expect(refsOf(main).filter((r) => !r.startsWith('refs/heads/oxi/T1 '))).toEqual(refsBefore.filter((r) => !r.startsWith('refs/heads/oxi/T1 ')));
          expect(refsOf(main).find((r) => r.startsWith('refs/heads/main '))).toBe(`refs/heads/main ${baseSha}`);
          if (head === undefined) return;
          expect(head).toMatch(/^[0-9a-f]{40}$/);
          expect(git(main, ['rev-parse', 'refs/oxi/tasks/T1'])).toBe(head);
          let reviewedBase: string;
          try {
            reviewedBase = await reviewBase(main, baseSha, head, 'refs/heads/main');
          } catch {
            reviewedBase = ''; // not shippable: nothing is reviewed, so nothing may land
          }
          const reviewed = reviewedBase ? git(main, ['diff', '--no-ext-diff', '--no-textconv', '--binary', reviewedBase, head]) : '';
          let outcome = 'threw';
          try {
            if (reviewedBase) {
              await assertReviewedRange(main, reviewedBase, head, 'refs/heads/main');
              outcome = (await squashMerge({ repo: main, branch: 'oxi/T1', base: 'main', expectedHead: head, message: 'T1: merge' })).outcome;
            }
          } catch {
            /* refusing by throwing lands nothing, which the checks below accept */
          }
          const after = git(main, ['rev-parse', 'refs/heads/main']);
          const descends = tryGit(main, ['merge-base', '--is-ancestor', baseSha, head]) !== undefined;
          const changes = reviewed !== '';
          if (after === baseSha) {
            // Nothing landed: only acceptable when there was nothing mergeable.
            expect(descends && changes, `refused a descendant with changes (${outcome})`).toBe(false);
            return;
          }
          expect(descends, `merged a head (${head}) that does not descend from the base (${outcome})`).toBe(true);
          expect(git(main, ['rev-parse', `${after}^`])).toBe(baseSha);
          expect(tryGit(main, ['rev-parse', '--verify', '-q', `${after}^2`])).toBeUndefined();
          expect(git(main, ['diff', '--no-ext-diff', '--no-textconv', '--binary', baseSha, after])).toBe(reviewed);
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }),
      fuzzParams(RUNS),
    );
  });
});
