/**
 * main moves only by fast-forwards (contract 3.7): the engine's own merges and a human's pass; a rewrite sets
 * the killswitch once, with a reason and one notification, and a human's unkill accepts the new main.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkMainIntegrity, MAIN_MOVED } from '../../../actors/effects/main-integrity.js';
import type { EffectDeps } from '../../../actors/effects/deps.js';
import { openDb } from '../../../src/store/db.js';
import { readMainSha } from '../../../src/store/engine-state.js';
import { gitSync, makeRepo, writeFiles, type TestRepo } from '../../helpers/git-repo.js';

let repos: TestRepo[] = [];
afterEach(() => {
  repos.forEach((r) => r.cleanup());
  repos = [];
});

function bed() {
  const r = makeRepo();
  repos.push(r);
  const db = openDb(join(r.scratch, 'oxi.db'));
  const kills: string[] = [];
  const notes: string[] = [];
  const deps = {
    db,
    adapter: { repo: { path: r.dir, mainBranch: 'main' } },
    selfKill: (reason: string) => kills.push(reason),
    notifier: { notify: async (m: { kind: string }) => void notes.push(m.kind) },
  } as unknown as EffectDeps;
  const commit = (text: string) => {
    writeFiles(r.dir, { 'README.md': `${text}\n` });
    gitSync(r.dir, ['commit', '-qam', text]);
    return gitSync(r.dir, ['rev-parse', 'HEAD']).trim();
  };
  return { r, db, deps, kills, notes, commit };
}

describe('checkMainIntegrity', () => {
  it('records main at first sight and after each fast-forward, killing nothing', async () => {
    const { deps, db, kills, commit, r } = bed();
    const first = gitSync(r.dir, ['rev-parse', 'HEAD']).trim();
    expect((await checkMainIntegrity(deps)).ok).toBe(true);
    expect(readMainSha(db)).toBe(first);
    const next = commit('a human fast-forward');
    expect((await checkMainIntegrity(deps)).ok).toBe(true);
    expect(readMainSha(db)).toBe(next);
    expect(kills).toEqual([]);
    db.close();
  });

  it('a rewrite of main kills the engine once, with the reason and one notification; unkilled, the new main is accepted', async () => {
    const { deps, db, kills, notes, commit, r } = bed();
    commit('merged task one');
    await checkMainIntegrity(deps);
    const recorded = readMainSha(db)!;
    gitSync(r.dir, ['reset', '-q', '--hard', 'HEAD~1']);
    const rewritten = commit('an unreviewed commit over the merged one');
    const check = await checkMainIntegrity(deps);
    expect(check.ok).toBe(false);
    expect(check.ledger).toEqual([{ kind: 'main.moved_unexpectedly', payload: { ref: 'refs/heads/main', from: recorded, to: rewritten } }]);
    expect(kills).toHaveLength(1);
    expect(kills[0]).toContain(MAIN_MOVED);
    expect(notes).toEqual(['main.moved']);
    // The next tick (killed, or after the human's unkill) sees the same main: no second kill, no second notification.
    expect((await checkMainIntegrity(deps)).ok).toBe(true);
    expect(kills).toHaveLength(1);
    expect(notes).toHaveLength(1);
    db.close();
  });
});
