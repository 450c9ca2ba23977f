/**
 * A running daemon keeps the config it started with: the adapter file changed on disk (as an agent
 * with write access to the main clone would change it) neither changes what the daemon does nor what
 * `oxi status` reports as live; status says the file on disk differs and takes effect on restart.
 * The CLI daemon, the scripted agent and the local forge.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { gitSync } from '../helpers/git-repo.js';
import { oxi, query, sampleProject, spawnOxi, waitFor } from '../helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('live config', () => {
  it('a config file changed under a running daemon is not reloaded; status shows the sha that is live', { timeout: 120_000 }, async () => {
    const p = sampleProject({
      tasks: 2,
      // Slow workers: the file is changed long before any task reaches its merge.
      script: (s) => Object.values(s.tasks).forEach((t) => Object.assign(t, { delayMs: 2500 })),
      config: (c) => Object.assign(c.engine, { prWatchIntervalMs: 200, seedIntervalMs: 300, reaperIntervalMs: 1000 }),
    });
    cleanups.push(p.cleanup);
    const original = readFileSync(p.configPath, 'utf8');
    const commit = gitSync(p.dir, ['log', '-1', '--format=%H', '--', 'oxi.config.json']).trim();

    // Not running: status shows the file a start would load, from its commit.
    const before = JSON.parse(oxi(['--config', p.configPath, 'status', '--json']).stdout);
    expect(before.config).toEqual({ path: p.configPath, sha256: sha256(original), commit, live: false });

    const daemon = spawnOxi(['--config', p.configPath, 'run', '--no-dashboard']);
    cleanups.push(async () => {
      if (daemon.exitCode === null) daemon.kill('SIGTERM');
      await daemon.exited;
    });
    const live = await waitFor('the daemon answering status', () => {
      const s = JSON.parse(oxi(['--config', p.configPath, 'status', '--json']).stdout);
      return s.config?.live ? s : undefined;
    }, 30_000);
    expect(live.config).toEqual({ path: p.configPath, sha256: sha256(original), commit, live: true, changedOnDisk: false });
    expect(query(p.db, `SELECT payload FROM event WHERE kind = 'config.loaded'`).map((r) => JSON.parse(String(r.payload)))).toMatchObject([{ sha256: sha256(original), commit }]);

    // The adapter rewritten on disk: auto-merge off, nothing else.
    const widened = JSON.parse(original);
    widened.policy = { ...(widened.policy ?? {}), autoMerge: false };
    const changed = `${JSON.stringify(widened, null, 2)}\n`;
    writeFileSync(p.configPath, changed);
    const changedAt = Date.now();

    const after = JSON.parse(oxi(['--config', p.configPath, 'status', '--json']).stdout);
    expect(after.config).toEqual({ path: p.configPath, sha256: sha256(original), commit, live: true, changedOnDisk: true });
    const text = oxi(['--config', p.configPath, 'status']).stdout;
    expect(text).toContain(`config   ${p.configPath} sha256 ${sha256(original).slice(0, 12)} from commit ${commit.slice(0, 12)} (live)`);
    expect(text).toContain(`the file on disk has changed (sha256 ${sha256(changed).slice(0, 12)}): it takes effect only when the daemon restarts`);

    // Behaviour unchanged: the daemon still merges by itself, after the change.
    await waitFor('both tasks merged', () => query<{ n: number }>(p.db, `SELECT count(*) AS n FROM tasks WHERE status = 'merged'`)[0].n === 2, 90_000);
    const merges = query<{ at: number }>(p.db, `SELECT at FROM event WHERE kind = 'auto_merge.merged'`);
    expect(merges).toHaveLength(2);
    for (const m of merges) expect(m.at).toBeGreaterThan(changedAt);
    expect(query(p.db, `SELECT 1 FROM event WHERE kind = 'auto_merge.refused'`)).toEqual([]);

    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    // Stopped: status now shows the file on disk, which came from no commit.
    const stopped = JSON.parse(oxi(['--config', p.configPath, 'status', '--json']).stdout);
    expect(stopped.config).toEqual({ path: p.configPath, sha256: sha256(changed), live: false });
  });
});
