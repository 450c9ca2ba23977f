/**
 * No orphan promote commands: real daemons and CLIs, a real promote command (a script that starts a grandchild,
 * writes both pids and hangs), the project's real database. A daemon SIGKILLed mid-promote leaves the command
 * running; the restarted engine ends its whole group and the ledger says the run was interrupted. `oxi kill`
 * ends a promote in flight, whether the daemon or a CLI runs it, and one whose runner died.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runningDaemon } from '../../src/runtime/pidfile.js';
import { isAlive, OXI, query, sampleProject, spawnDaemon, spawnOxi, waitFor } from '../helpers/project.js';

const SCRIPT = join(import.meta.dirname, '..', 'fixtures', 'promote-script.mjs');
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A project whose promote command hangs (with a grandchild) and writes its pids to `<outDir>/pids`. */
function project() {
  const p = sampleProject({ tasks: 1, config: (c) => (c.promote = { command: [process.execPath, SCRIPT, 'OUT'], schedule: 'after-merge' }) });
  cleanups.push(p.cleanup);
  const outDir = join(p.dir, '..');
  const config = JSON.parse(readFileSync(p.configPath, 'utf8'));
  config.promote.command[2] = outDir;
  writeFileSync(p.configPath, JSON.stringify(config));
  spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'promote'], { cwd: p.dir });
  writeFileSync(join(outDir, 'hang'), '');
  const pidsFile = join(outDir, 'pids');
  // Whatever happens, the command's processes end with the test.
  cleanups.push(() => {
    if (!existsSync(pidsFile)) return;
    for (const pid of JSON.parse(readFileSync(pidsFile, 'utf8')) as number[]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  return { ...p, outDir, pidsFile };
}

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [OXI, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `oxi promote --now` as a long-running child, SIGKILLed at cleanup if still running. */
function promoteNow(dir: string) {
  const now = spawnOxi(['promote', '--now', '--json'], dir);
  cleanups.push(async () => {
    if (now.exitCode === null && now.signalCode === null) (now.kill('SIGKILL'), await now.exited);
  });
  return now;
}

/** The command's pids (it and its grandchild) once it wrote them: a fresh file per run. */
async function commandPids(pidsFile: string): Promise<number[]> {
  const pids = await waitFor('the promote command to start', () => existsSync(pidsFile) && (JSON.parse(readFileSync(pidsFile, 'utf8')) as number[]), 120_000);
  expect(pids.every(isAlive)).toBe(true);
  return pids;
}

type Row = { kind: string; actor: string; payload: Record<string, unknown> };
const promoteRows = (db: string): Row[] => query<{ kind: string; actor: string; payload: string }>(db, "SELECT kind, actor, payload FROM event WHERE kind LIKE 'promote.%' ORDER BY id").map((r) => ({ ...r, payload: JSON.parse(r.payload) }));
const groups = (db: string) => query<{ pid: number | null; owner_pid: number }>(db, 'SELECT pid, owner_pid FROM promote_group');
const json = (text: string) => JSON.parse(text.slice(text.indexOf('{')));

async function daemonUp(dir: string) {
  const d = spawnDaemon(dir, cleanups);
  await waitFor('the daemon answering', async () => (await runningDaemon(join(dir, '.oxi')))?.pid === d.pid, 120_000).catch((e) => {
    throw new Error(`${(e as Error).message}\n${d.output()}`);
  });
  return d;
}

describe('a promote command and the process that runs it', () => {
  it('a daemon SIGKILLed mid-promote: the restart ends the command\'s group, the ledger says interrupted; then a kill ends a run in flight', async () => {
    const p = project();
    const first = await daemonUp(p.dir);
    const now = promoteNow(p.dir);
    const pids = await commandPids(p.pidsFile);
    // On record while it runs: the command's group, and the daemon that runs it.
    expect(groups(p.db)).toEqual([{ pid: pids[0], owner_pid: first.pid }]);

    first.kill('SIGKILL');
    await first.exited;
    // Nobody ends it with the daemon: it runs on, orphaned, until a restart.
    expect(pids.every(isAlive)).toBe(true);
    const second = await daemonUp(p.dir);
    await waitFor('the orphaned command and its grandchild to end', () => pids.every((pid) => !isAlive(pid)), 120_000);
    const run = await waitFor('the run recorded as interrupted', () => promoteRows(p.db).find((r) => r.kind === 'promote.run'), 60_000);
    expect(run).toMatchObject({ actor: 'promoter:default', payload: expect.objectContaining({ trigger: 'manual', ok: false, interrupted: true, pid: pids[0] }) });
    expect(run.payload.summary).toBe(`interrupted: the process running it (pid ${first.pid}) ended mid-run; its command (process group ${pids[0]}) was still running and was stopped`);
    expect(groups(p.db)).toEqual([]);
    // The CLI that asked for the run was following the ledger: it ends with that row.
    expect(await now.exited).toBe(1);
    expect(json(now.output())).toMatchObject({ ok: false, via: 'daemon', summary: run.payload.summary });
    // The operator sees it: in `oxi status` and `oxi promote`; it is not run again by itself.
    const status = cli(['status', '--json'], p.dir);
    expect(json(status.stdout).promote).toEqual([{ name: 'default', running: null, last: expect.objectContaining({ ok: false, interrupted: true, summary: run.payload.summary }) }]);
    expect(cli(['status'], p.dir).stdout).toMatch(/promote  default: last run INTERRUPTED at .* not run again by itself/);
    expect(json(cli(['promote', '--json'], p.dir).stdout).recipes[0].runs[0]).toMatchObject({ interrupted: true, ok: false });
    expect(promoteRows(p.db).filter((r) => r.kind === 'promote.started')).toHaveLength(1);

    // A kill while the restarted daemon runs a promote ends its group at once and records it.
    rmSync(p.pidsFile);
    const again = promoteNow(p.dir);
    const pids2 = await commandPids(p.pidsFile);
    expect(groups(p.db)).toEqual([{ pid: pids2[0], owner_pid: second.pid }]);
    expect(cli(['kill', '--reason', 'stop the promote'], p.dir).code).toBe(0);
    await waitFor('the promote and its grandchild to end', () => pids2.every((pid) => !isAlive(pid)), 60_000);
    expect(await again.exited).toBe(1);
    expect(json(again.output())).toMatchObject({ ok: false, summary: expect.stringMatching(/^stopped by a kill of the engine/) });
    await waitFor('the record cleared', () => groups(p.db).length === 0, 30_000);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 600_000);

  it('with no daemon: `oxi kill` stops a run in the CLI, and ends one whose CLI was SIGKILLed', async () => {
    const p = project();
    const now = promoteNow(p.dir);
    const pids = await commandPids(p.pidsFile);
    expect(groups(p.db)).toEqual([{ pid: pids[0], owner_pid: now.pid }]);
    expect(cli(['kill', '--reason', 'stop the promote'], p.dir).code).toBe(0);
    await waitFor('the promote and its grandchild to end', () => pids.every((pid) => !isAlive(pid)), 60_000);
    expect(await now.exited).toBe(1);
    expect(json(now.output())).toMatchObject({ ok: false, via: 'direct', summary: expect.stringMatching(/^stopped by a kill of the engine/) });
    expect(groups(p.db)).toEqual([]);
    expect(cli(['unkill'], p.dir).code).toBe(0);

    // The CLI running it dies: the command runs on until the next `oxi kill` (or start) ends it.
    rmSync(p.pidsFile);
    const lost = promoteNow(p.dir);
    const pids2 = await commandPids(p.pidsFile);
    lost.kill('SIGKILL');
    await lost.exited;
    expect(pids2.every(isAlive)).toBe(true);
    const kill = cli(['kill', '--reason', 'end the orphan', '--json'], p.dir);
    expect(kill.code).toBe(0);
    expect(JSON.parse(kill.stdout)).toMatchObject({ killed: true, promotesEnded: 1 });
    // Notified like a failed run (the sample project's notifier logs; stdout stays the --json answer).
    expect(kill.stderr).toContain('[oxi error] promote: Promote default interrupted: the process running it');
    expect(pids2.every((pid) => !isAlive(pid))).toBe(true);
    expect(groups(p.db)).toEqual([]);
    expect(promoteRows(p.db).at(-1)).toMatchObject({ kind: 'promote.run', payload: expect.objectContaining({ interrupted: true, ok: false, pid: pids2[0] }) });
  }, 300_000);
});
