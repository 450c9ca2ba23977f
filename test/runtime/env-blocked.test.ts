/**
 * Found by the simulated week: with the logs disk full, every dispatch failed, spent an attempt, and a
 * long enough window abandoned the tasks it caught. Now an environment error closes dispatch (one ledger
 * row, one notification) until a probe of the logs dir succeeds, and the task waits without spending.
 * The disk is "full" for real: the worker's state file and the probe's file are links to /dev/full.
 */
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../inspector/snapshot.js';
import { LocalHost } from '../../actors/hosts/local-host.js';
import { workerFiles } from '../../actors/effects/run-agent.js';
import { loadAdapter } from '../../src/config/load.js';
import type { SpawnDetachedOptions } from '../../src/ports.js';
import { runDaemon } from '../../src/runtime/daemon.js';
import type { EngineHandle } from '../../src/runtime/engine.js';
import { probePath } from '../../src/gates/environment-gate.js';
import { openDb } from '../../src/store/db.js';
import { isAlive, sampleProject, waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** The real local host, on a disk that fills up as a worker starts (as SimHost does in the week). */
class FullDiskHost extends LocalHost {
  full = true;
  readonly spawned: number[] = [];

  override async spawnDetached(argv: readonly string[], options: SpawnDetachedOptions): Promise<{ pid: number }> {
    const out = await super.spawnDetached(argv, options);
    this.spawned.push(out.pid);
    if (this.full) {
      const state = options.stdoutFile.replace(/\.ndjson$/, '.json');
      rmSync(state, { force: true });
      symlinkSync('/dev/full', state);
    }
    return out;
  }
}

describe('a full logs disk', () => {
  it('pauses dispatch without spending an attempt, terminates the unrecorded worker, and resumes when space is back', async () => {
    const p = sampleProject({
      tasks: 1,
      config: (c) => {
        c.policy = { ...(c.policy ?? {}), maxAttempts: 2 };
        c.engine = { ...c.engine, hostProbeIntervalMs: 100, backoffBaseMs: 100, backoffMaxMs: 400, prWatchIntervalMs: 150, seedIntervalMs: 300, reaperIntervalMs: 1000 };
      },
    });
    cleanups.push(p.cleanup);
    const adapter = await loadAdapter({ configPath: p.configPath });
    const db = openDb(adapter.paths.db);
    cleanups.push(() => db.close());
    const host = new FullDiskHost('local');
    const notes: string[] = [];
    mkdirSync(adapter.paths.logs, { recursive: true });
    symlinkSync('/dev/full', probePath(adapter.paths.logs));

    const task = p.ids[0];
    const row = () => db.prepare('SELECT status, attempt, reason FROM tasks WHERE id = ?').get(task) as { status: string; attempt: number; reason: string | null };
    const count = (kind: string) => (db.prepare('SELECT COUNT(*) AS n FROM event WHERE kind = ?').get(kind) as { n: number }).n;
    let engine: EngineHandle | undefined;
    const run = runDaemon({
      adapter, db, hosts: new Map([['local', host]]), notifier: { notify: async (m) => void notes.push(m.kind) },
      until: 'settled', signals: false, log: () => {}, onStarted: (e) => (engine = e),
    });
    let settled = false;
    void run.finally(() => (settled = true)).catch(() => undefined);
    // A failed assertion leaves the disk full and the daemon waiting: stop it rather than wait for it.
    cleanups.push(async () => {
      if (!settled) await engine?.stop();
    });

    await waitFor('dispatch closed by the full disk', () => count('dispatch.env_blocked') > 0);
    // The task is back to waiting for a slot, its attempt unspent; the pool hands out none.
    await waitFor('the task waiting for a slot again', () => row().status === 'waiting');
    // Many probe periods pass (100 ms each) with the disk still full: nothing is dispatched again.
    await new Promise((r) => setTimeout(r, 1500));
    expect(host.spawned).toHaveLength(1);
    expect(row()).toMatchObject({ status: 'waiting', attempt: 0 });
    expect(count('dispatch.env_blocked')).toBe(1);
    expect(count('dispatch.env_cleared')).toBe(0);
    expect(notes.filter((k) => k === 'dispatch.env_blocked')).toHaveLength(1);
    expect(buildSnapshot(db, adapter).engine.dispatchPaused).toMatch(/^ENOSPC: /);
    // The worker whose launch could not be recorded was terminated, and left nothing to adopt.
    await waitFor('the unrecorded worker gone', () => !isAlive(host.spawned[0]));
    expect(existsSync(workerFiles(adapter.paths.logs, task, 0, 0).pid)).toBe(false);

    // Space comes back: the next probe reopens dispatch, and the task completes on its first attempt.
    host.full = false;
    rmSync(probePath(adapter.paths.logs));
    expect(await run).toMatchObject({ code: 0 });
    expect(row()).toMatchObject({ status: 'merged', attempt: 0 });
    expect(host.spawned).toHaveLength(2);
    expect(count('dispatch.env_blocked')).toBe(1);
    expect(count('dispatch.env_cleared')).toBe(1);
    expect(notes.filter((k) => k === 'dispatch.env_blocked')).toHaveLength(1);
    expect(buildSnapshot(db, adapter).engine.dispatchPaused).toBeNull();
  });
});
