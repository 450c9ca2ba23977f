/**
 * Everything oxi creates under its state dir is the engine user's alone: directories 700, files 600
 * (the database and its -wal/-shm, the pid file, the control socket, logs, worker state and streams),
 * under a umask of 022. The workspaces' own contents are the repository's checkout (git's modes),
 * behind a 700 directory. The CLI daemon, the scripted agent and the local forge.
 */
import { spawn } from 'node:child_process';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chmodPrivateIfExists, mkdirPrivate, touchPrivate, writePrivate } from '../src/fs-private.js';
import { OXI, query, sampleProject, waitFor } from './helpers/project.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const mode = (path: string) => (lstatSync(path).mode & 0o777).toString(8);

/** Every path under `root` with its mode, not descending into workspaces (listed themselves). */
function walk(root: string, workspaces: string, out: Array<[string, string, string]> = []): Array<[string, string, string]> {
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const st = lstatSync(path);
    const kind = st.isDirectory() ? 'dir' : st.isSocket() ? 'socket' : st.isSymbolicLink() ? 'link' : 'file';
    out.push([path, kind, mode(path)]);
    const isWorkspace = root.startsWith(workspaces) && root !== workspaces && st.isDirectory();
    if (st.isDirectory() && !isWorkspace) walk(path, workspaces, out);
  }
  return out;
}

describe('file modes', () => {
  it('the helpers set 700/600 whatever the umask, and tighten what existed', () => {
    const p = sampleProject({ tasks: 1 });
    cleanups.push(p.cleanup);
    const old = process.umask(0o022);
    try {
      mkdirPrivate(join(p.dir, 'a/b/c'));
      expect([mode(join(p.dir, 'a')), mode(join(p.dir, 'a/b')), mode(join(p.dir, 'a/b/c'))]).toEqual(['700', '700', '700']);
      expect(mode(p.dir)).toBe('755'); // a parent that existed is not ours to change
      writePrivate(join(p.dir, 'a/f'), 'x');
      touchPrivate(join(p.dir, 'a/g'));
      expect([mode(join(p.dir, 'a/f')), mode(join(p.dir, 'a/g'))]).toEqual(['600', '600']);
      writePrivate(join(p.dir, 'README.md'), 'rewritten');
      expect(mode(join(p.dir, 'README.md'))).toBe('600');
      chmodPrivateIfExists(join(p.dir, 'nope'));
    } finally {
      process.umask(old);
    }
  });

  it('a running daemon under umask 022 leaves nothing under .oxi/ readable by others', { timeout: 120_000 }, async () => {
    const p = sampleProject({
      tasks: 2,
      // Slow workers: the tree is walked while a worker, its stream and the database are live.
      script: (s) => Object.values(s.tasks).forEach((t) => Object.assign(t, { delayMs: 4000 })),
      config: (c) => Object.assign(c.engine, { prWatchIntervalMs: 200, seedIntervalMs: 300, reaperIntervalMs: 1000 }),
    });
    cleanups.push(p.cleanup);
    // The umask set by the shell that starts the daemon, as an operator's login would.
    const daemon = spawn('/bin/sh', ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, OXI, '--config', p.configPath, 'run', '--no-dashboard'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => daemon.on('exit', r));
    cleanups.push(async () => {
      if (daemon.exitCode === null) daemon.kill('SIGTERM');
      await exited;
    });
    const state = join(p.dir, '.oxi');
    const working = await waitFor('a worker running', () => query<{ id: string }>(p.db, `SELECT id FROM tasks WHERE status = 'working'`)[0]?.id, 60_000);
    await waitFor('its stream and pid file written', () => ['.ndjson.pid', '.json'].every((x) => readdirSync(join(state, 'logs', working)).some((f) => f.endsWith(x))) && statSync(join(state, 'oxi.db-wal')).size > 0, 30_000);

    const entries = walk(state, join(state, 'worktrees'));
    const names = entries.map(([path]) => path.slice(state.length + 1));
    // What must be there, live: the database, its WAL files and the backup kept at start, the pid file, the socket, worker logs, workspaces.
    for (const expected of ['oxi.db', 'oxi.db-wal', 'oxi.db-shm', 'oxi.db.backup', 'oxi.pid', 'logs', 'worktrees']) expect(names).toContain(expected);
    expect(entries.some(([path, kind]) => kind === 'socket' && path.startsWith(state))).toBe(true);
    for (const suffix of ['.json', '.ndjson', '.ndjson.pid', '.stderr.log']) expect(names).toContain(`logs/${working}/worker-a0-f0${suffix}`);
    expect(names).toContain(`worktrees/demo-default/${working}`);
    const wrong = entries.filter(([, kind, m]) => (kind === 'dir' ? m !== '700' : kind === 'link' ? false : m !== '600'));
    expect(wrong.map(([path, kind, m]) => `${path.slice(state.length + 1)} (${kind}) ${m}`)).toEqual([]);
    expect(mode(state)).toBe('700');

    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
