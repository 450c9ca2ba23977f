/** Shadow pairs written the way the engine writes them (src/store/shadow.ts), for the CLI and dashboard tests. */
import { claimShadowPair, recordRealSide, recordShadowSide } from '../../src/store/shadow.js';
import type { Db } from '../../src/store/db.js';

/** Two finished pairs: T1 where both touched a.js (match), T2 where the shadow touched b.js too; and T3 still running. */
export function seedShadowPairs(db: Db, now = Date.now()): void {
  const pair = (task: string, realFiles: string[], shadowFiles: string[], realCost: number, shadowCost: number, checks: 'success' | 'failure') => {
    const id = claimShadowPair(db, { task, attempt: 0, fix: 0, startSha: 'a'.repeat(40), workspace: `/tmp/ws-${task}`, host: 'local', realBackend: 'claude', realModel: 'opus', shadowBackend: 'codex', shadowModel: 'gpt-5', at: now })!;
    recordRealSide(db, { task, attempt: 0, fix: 0 }, { outcome: 'ok', files: realFiles, costUsd: realCost, backend: 'claude', model: 'opus' });
    recordShadowSide(db, id, { status: 'done', outcome: 'ok', error: null, files: shadowFiles, costUsd: shadowCost, checks, at: now + 1 });
  };
  pair('T1', ['a.js'], ['a.js'], 0.5, 0.25, 'success');
  pair('T2', ['a.js'], ['b.js', 'a.js'], 0.5, 0.75, 'failure');
  claimShadowPair(db, { task: 'T3', attempt: 1, fix: 0, startSha: 'b'.repeat(40), workspace: '/tmp/ws-T3', host: 'local', realBackend: 'claude', realModel: null, shadowBackend: 'codex', shadowModel: null, at: now + 2 });
}
