/**
 * `oxi promote` as an operator uses it: real CLI processes, a real command (a script that writes a file),
 * the ledger read back from the project's database; with no daemon (the run happens in the CLI) and with
 * one (the daemon's promoter runs it: after a merge, and on --now, stopped by a kill).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, OXI, query, sampleProject, spawnDaemon, spawnOxi, waitFor } from '../helpers/project.js';

const SCRIPT = join(import.meta.dirname, '..', 'fixtures', 'promote-script.mjs');
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function project(promote: unknown, more: (config: Record<string, any>) => void = () => {}) {
  const p = sampleProject({ tasks: 1, config: (c) => ((c.promote = promote), more(c)) });
  cleanups.push(p.cleanup);
  return p;
}

const ENV = { ...process.env, PROMOTE_VISIBLE: 'yes', PROMOTE_UNLISTED: 'no', GITHUB_TOKEN: 'ghp_notarealtokenbutlongenough1234', ANTHROPIC_API_KEY: 'sk-ant-not-a-real-key-0123456789' };

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [OXI, ...args], { cwd, env: ENV, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Row = { kind: string; actor: string; payload: string };
const promoteRows = (db: string) => query<Row>(db, "SELECT kind, actor, payload FROM event WHERE kind LIKE 'promote.%' ORDER BY id").map((r) => ({ ...r, payload: JSON.parse(r.payload) }));

describe('oxi promote --now', () => {
  it('says clearly when no promote is configured, or the repository is unknown', () => {
    const p = project(undefined);
    const none = cli(['promote', '--now'], p.dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/No promote recipe is configured: expected `promote: \{ command/);
    const q = project({ command: ['true'], schedule: 'daily 03:00' });
    const unknown = cli(['promote', '--now', '--repo', 'elsewhere'], q.dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No promote recipe for repository "elsewhere": the adapter has "default"');
  });

  it('runs the command once with no daemon: argv-form in the main clone, whitelisted env, a ledger row with a redacted tail', () => {
    const p = project({ command: [process.execPath, SCRIPT, 'OUT'], schedule: 'daily 03:00', env: ['PROMOTE_VISIBLE', 'GITHUB_TOKEN'] });
    // The out dir goes into the command now that the project exists.
    const config = JSON.parse(readFileSync(p.configPath, 'utf8'));
    config.promote.command[2] = join(p.dir, '..');
    writeFileSync(p.configPath, JSON.stringify(config));
    const r = cli(['promote', '--now', '--json'], p.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ name: 'default', ok: true, exitCode: 0, summary: 'exit 0', via: 'direct' });
    const runs = readFileSync(join(p.dir, '..', 'runs.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // The listed variable passes; the forge token never does, listed or not; nothing unlisted does.
    expect(runs).toEqual([{ cwd: p.dir, seen: ['PROMOTE_VISIBLE'], visible: 'yes' }]);
    const rows = promoteRows(p.db);
    expect(rows.map((x) => x.kind)).toEqual(['promote.started', 'promote.run']);
    const run = rows[1]!.payload;
    expect(run).toMatchObject({ name: 'default', trigger: 'manual', ok: true, exitCode: 0, summary: 'exit 0' });
    expect(run.durationMs).toBeGreaterThanOrEqual(0);
    expect(run.outputTail).toContain('promoting: token [redacted] in the output');
    expect(run.outputTail).toContain('step 2 of 2 done');
    expect(run.outputTail).not.toContain('ghp_');
    expect(rows[1]!.actor).toMatch(/^cli/);
    // `oxi promote` lists it.
    const list = JSON.parse(cli(['promote', '--json'], p.dir).stdout);
    expect(list.recipes[0]).toMatchObject({ name: 'default', schedule: 'daily 03:00', enabled: false, runs: [expect.objectContaining({ ok: true, exitCode: 0 })] });
  });

  it('a failing command: exit code recorded, exit 1, a notification sent', () => {
    const p = project({ command: [process.execPath, SCRIPT, 'OUT', '3'], schedule: 'after-merge' }, (c) => (c.notifications = [{ kind: 'stderr' }]));
    const config = JSON.parse(readFileSync(p.configPath, 'utf8'));
    config.promote.command[2] = join(p.dir, '..');
    writeFileSync(p.configPath, JSON.stringify(config));
    const r = cli(['promote', '--now'], p.dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('promote default: FAILED (exit 3)');
    expect(r.stdout).toContain('step 2 of 2 done (exit 3)');
    expect(r.stderr).toContain('[oxi error] promote: Promote default failed: exit 3');
    const run = promoteRows(p.db).at(-1)!;
    expect(run.kind).toBe('promote.run');
    expect(run.payload).toMatchObject({ ok: false, exitCode: 3, summary: 'exit 3' });
  });
});

describe('the daemon\'s promoter', () => {
  it('runs after a merge, runs --now through the daemon, and a kill ends a long run with its whole process group', async () => {
    const p = project({ command: [process.execPath, SCRIPT, 'OUT'], schedule: 'after-merge', enabled: true });
    const outDir = join(p.dir, '..');
    const config = JSON.parse(readFileSync(p.configPath, 'utf8'));
    config.promote.command[2] = outDir;
    writeFileSync(p.configPath, JSON.stringify(config));
    spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'promote'], { cwd: p.dir });
    const daemon = spawnDaemon(p.dir, cleanups);
    // The roadmap's one task merges; the promoter notices the merge and runs.
    const afterMerge = await waitFor('a promote after the merge', () => promoteRows(p.db).find((r) => r.kind === 'promote.run'), 600_000, 250);
    expect(afterMerge.payload).toMatchObject({ trigger: 'after-merge', ok: true, exitCode: 0 });
    expect(afterMerge.actor).toBe('promoter:default');
    expect(query(p.db, "SELECT 1 FROM event WHERE kind = 'task.merged'")).toHaveLength(1);
    // Persisted like every actor: its snapshot row, and the armed row where its schedule started.
    expect(query(p.db, "SELECT machine FROM actor_snapshot WHERE actor = 'promoter:default'")).toEqual([{ machine: 'promoter' }]);
    expect(promoteRows(p.db)[0]).toMatchObject({ kind: 'promote.armed', actor: 'promoter:default' });

    writeFileSync(join(outDir, 'hang'), '');
    const now = spawnOxi(['promote', '--now', '--json'], p.dir);
    cleanups.push(() => now.kill('SIGKILL'));
    const pids = await waitFor('the hanging promote', () => existsSync(join(outDir, 'pids')) && (JSON.parse(readFileSync(join(outDir, 'pids'), 'utf8')) as number[]), 120_000);
    expect(pids.every(isAlive)).toBe(true);
    expect(cli(['kill', '--reason', 'stop the promote'], p.dir).code).toBe(0);
    await waitFor('the promote and its grandchild to end', () => pids.every((pid) => !isAlive(pid)), 60_000);
    expect(await now.exited).toBe(1);
    const out = JSON.parse(now.output().slice(now.output().indexOf('{')));
    expect(out).toMatchObject({ ok: false, via: 'daemon', summary: expect.stringMatching(/^stopped by a kill/) });
    const last = promoteRows(p.db).at(-1)!;
    expect(last).toMatchObject({ kind: 'promote.run', actor: 'promoter:default', payload: expect.objectContaining({ trigger: 'manual', ok: false }) });
    daemon.kill('SIGTERM');
    await daemon.exited;
  }, 900_000);
});
