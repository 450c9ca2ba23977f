/**
 * The config a daemon runs with: fixed at its start, never reloaded (an agent's edit of the adapter
 * file takes effect only when a human restarts it, and protected paths keep such an edit from being
 * merged without a human). Each start leaves a `config.loaded` ledger row; `oxi status` and the
 * dashboard show which config is live.
 */
import type { ConfigSource } from '../config/schema.js';
import { liveConfig, type LiveConfig } from '../config/source.js';
import type { Db } from '../store/db.js';
import { appendEvent } from '../store/ledger.js';
import { lastEventOfKinds } from '../store/ledger-queries.js';

export type { LiveConfig };

/** Computes the live config of a daemon starting now and writes its ledger row. */
export async function recordLiveConfig(db: Db, source: ConfigSource | undefined, at: number): Promise<LiveConfig | undefined> {
  const live = await liveConfig(source);
  if (live) appendEvent(db, { at, actor: 'daemon', kind: 'config.loaded', payload: { ...live, pid: process.pid } });
  return live;
}

/** The config the last daemon started with (its `config.loaded` row), or undefined. */
export function lastLiveConfig(db: Db): (LiveConfig & { pid?: number }) | undefined {
  const row = lastEventOfKinds(db, ['config.loaded']);
  if (!row) return undefined;
  const p = JSON.parse(row.payload) as LiveConfig & { pid?: number };
  return { path: p.path, sha256: p.sha256, ...(p.commit ? { commit: p.commit } : {}), ...(p.pid ? { pid: p.pid } : {}) };
}

/** One line for `oxi status`: path, short sha256, the commit it came from or that it came from none. */
export function configLine(config: LiveConfig, live: boolean, onDisk?: LiveConfig): string {
  const from = config.commit ? `from commit ${config.commit.slice(0, 12)}` : 'not from a commit (uncommitted or untracked)';
  const changed = live && onDisk && onDisk.sha256 !== config.sha256 ? ` — the file on disk has changed (sha256 ${onDisk.sha256.slice(0, 12)}): it takes effect only when the daemon restarts` : '';
  return `${config.path} sha256 ${config.sha256.slice(0, 12)} ${from}${live ? ' (live)' : ' (on disk; no daemon running)'}${changed}`;
}
