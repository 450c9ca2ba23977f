/**
 * Shadow runs of a worker on an SSH host (a real sshd on loopback with its own clone and worktrees root): the fake
 * `claude` as both routes, the worker's session ended, its shadow hanging. A kill ends the shadow's process group
 * on the host through the engine's durable terminator and records the pair as interrupted; a host out of reach at
 * that moment keeps the group recorded until it answers, and neither the shadow nor the task throws meanwhile. A
 * shadow that ends while its host is out of reach is waited for and recorded once the host answers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent as runWorker } from '../../../actors/effects/run-agent.js';
import { recordingShadow } from '../../../actors/effects/shadow.js';
import { GroupTerminator } from '../../../actors/hosts/kill-groups.js';
import { placeOf } from '../../../actors/hosts/places.js';
import { sshHostFromConfig } from '../../../actors/hosts/ssh/from-adapter.js';
import type { SshHost } from '../../../actors/hosts/ssh/ssh-host.js';
import type { SshHostConfig } from '../../../src/config/schema.js';
import { pendingKillGroups } from '../../../src/store/kill-groups.js';
import { getShadowPairFor, type ShadowPairRow } from '../../../src/store/shadow.js';
import { agentFixture, FAKE_CLAUDE, seedTask, type AgentFixture } from '../../helpers/agent-deps.js';
import { makeRepo } from '../../helpers/git-repo.js';
import { isAlive, waitFor } from '../../helpers/project.js';
import { startSshd, type TestSshd } from '../../helpers/sshd.js';
import { failOnUnhandledRejections } from '../../helpers/unhandled.js';

failOnUnhandledRejections();

const runAgent = recordingShadow(runWorker);
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Bed {
  fx: AgentFixture;
  sshd: TestSshd;
  host: SshHost;
  work: string;
  pidsFile: string;
  /** The `say` scenario's turn ends once this file exists. */
  go: string;
  calls: Array<[string, number]>;
  kill(): void;
}

/** The worker plays `happy` on host "alpha", its shadow `shadow`; the engine's terminator records groups before ending them. */
async function bed(shadow = 'hang'): Promise<Bed> {
  const sshd = await startSshd();
  cleanups.push(() => sshd.cleanup());
  const repo = makeRepo();
  cleanups.push(() => repo.cleanup());
  const clone = join(sshd.dir, 'clone');
  const work = join(sshd.dir, 'work');
  execFileSync('git', ['clone', '-q', repo.dir, clone]);
  const pidsFile = join(repo.scratch, 'pids');
  // The hanging shadow's pids: ended here whatever the test did.
  cleanups.push(() => existsSync(pidsFile) && readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number).forEach((pid) => isAlive(pid) && process.kill(pid, 'SIGKILL')));
  const fx = agentFixture(repo.dir, join(repo.scratch, 'state'), {
    hosts: [{ name: 'alpha', kind: 'ssh', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHosts: sshd.knownHosts, maxWorkers: 1, mainClone: clone, worktreesRoot: work }],
    agents: {
      worker: { backend: 'claude', model: 'scenario-happy' },
      shadow: { backend: 'claude', model: `scenario-${shadow}` },
      claude: { command: [process.execPath, FAKE_CLAUDE] },
      env: { set: { FAKE_CLAUDE_PIDS: pidsFile, FAKE_CLAUDE_STATE: repo.scratch } },
      timeouts: { wallMinutes: 5, stallMinutes: 5 },
      sandbox: { mode: 'none' }, // the pids are read from outside
      network: 'open',
    },
  });
  cleanups.push(() => fx.close());
  const host = sshHostFromConfig(fx.adapter.hosts.find((h) => h.name === 'alpha') as SshHostConfig, { commandTimeoutMs: 10_000 });
  cleanups.push(() => host.close());
  fx.deps.hosts.set('alpha', host);
  const terminator = new GroupTerminator({ db: fx.db, clock: fx.deps.clock, hosts: fx.deps.hosts, retryMs: 500 });
  cleanups.push(() => terminator.stop());
  const calls: Array<[string, number]> = [];
  fx.deps.terminateGroup = (h, pid, task) => (calls.push([h, pid]), terminator.terminate(h, pid, task, 'hard kill'));
  const tracked: Promise<unknown>[] = [];
  fx.deps.track = (p) => tracked.push(p);
  cleanups.push(() => Promise.allSettled(tracked));
  let killed = false;
  fx.deps.killed = () => killed;
  seedTask(fx.db, 'T1');
  return { fx, sshd, host, work, pidsFile, go: join(repo.scratch, 'go'), calls, kill: () => (killed = true) };
}

/** Runs the worker's session on alpha (in its workspace there) and waits for the hanging shadow to run. */
async function workerWithShadow(b: Bed, hangs = true): Promise<{ out: Awaited<ReturnType<typeof runAgent>>; pair: ShadowPairRow; pids: number[] }> {
  const { worktree } = await placeOf(b.fx.deps, 'alpha').provision('T1', 'oxi/t1', null);
  const input = {
    taskId: 'T1', attempt: 0, host: 'alpha', worktree, branch: 'oxi/t1', fix: 0, title: 'Task T1', description: 'add fake.txt', feedback: null,
    plan: { files_touched: ['fake.txt'], tests: [], dependencies: [], risk: 'low' },
  };
  const out = await runAgent(b.fx.deps, input, new AbortController().signal);
  const pair = await waitFor('the shadow running on alpha', () => {
    const row = getShadowPairFor(b.fx.db, { task: 'T1', attempt: 0, fix: 0 });
    return row?.pid ? row : undefined;
  }, 60_000, 50);
  if (!hangs) return { out, pair, pids: [pair.pid!] };
  const pids = await waitFor('the hanging shadow and its child', () => {
    const list = existsSync(b.pidsFile) ? readFileSync(b.pidsFile, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [];
    return list.length === 2 ? list : undefined;
  }, 60_000, 50);
  return { out, pair, pids };
}

const ended = (b: Bed) =>
  waitFor('the shadow pair recorded', () => {
    const row = getShadowPairFor(b.fx.db, { task: 'T1', attempt: 0, fix: 0 });
    return row && row.shadow_status !== 'running' ? row : undefined;
  }, 60_000, 50);

describe('shadow runs on an SSH host: the host out of reach', () => {
  it('a shadow that ends while its host is out of reach is waited for, then recorded done with its files', async () => {
    const b = await bed('say');
    // Counts the liveness checks alpha left unanswered (the real transport, observed).
    let unanswered = 0;
    const alive = b.host.isAlive.bind(b.host);
    b.host.isAlive = (pid) => alive(pid).catch((error: unknown) => (unanswered++, Promise.reject(error)));
    const { out, pair } = await workerWithShadow(b, false);
    expect(out.outcome).toBe('ok');
    await b.sshd.stop();
    await waitFor('a liveness check of the shadow unanswered', () => unanswered >= 1, 60_000, 50);
    writeFileSync(b.go, '');
    await waitFor('the shadow session ended on alpha', () => !isAlive(pair.pid!), 60_000, 50);
    const seen = unanswered;
    await waitFor('another liveness check unanswered since', () => unanswered > seen, 60_000, 50);
    // The shadow's end is unknown to the engine while alpha is out of reach: nothing is recorded yet, nothing thrown.
    expect(getShadowPairFor(b.fx.db, { task: 'T1', attempt: 0, fix: 0 })).toMatchObject({ shadow_status: 'running', real_outcome: 'ok' });
    await b.sshd.start();
    b.host.redial();
    const row = await ended(b);
    expect(row).toMatchObject({ shadow_status: 'done', shadow_outcome: 'ok', shadow_files: '["fake.txt"]', real_files: '["fake.txt"]', shape_match: 1, shadow_checks: 'skipped' });
    expect(b.calls).toEqual([]);
  }, 240_000);
});

describe('shadow runs on an SSH host: kills', () => {
  it('a kill ends the remote shadow\'s process group through the terminator and records the pair interrupted', async () => {
    const b = await bed();
    const { out, pair, pids } = await workerWithShadow(b);
    expect(out).toMatchObject({ outcome: 'ok', costUsd: 0.05 });
    expect(pair.workspace.startsWith(`${b.work}/`)).toBe(true);
    expect(pair.real_outcome).toBe('ok');
    b.kill();
    const row = await ended(b);
    expect(row).toMatchObject({ shadow_status: 'interrupted', shadow_error: 'the killswitch stopped the shadow', real_outcome: 'ok', pid: null });
    expect(b.calls).toEqual([['alpha', pair.pid]]);
    await waitFor('the shadow group gone', () => pids.every((pid) => !isAlive(pid)), 30_000, 50);
    await waitFor('the termination record cleared', () => pendingKillGroups(b.fx.db).length === 0, 30_000, 50);
  }, 180_000);

  it('a kill while the host is out of reach: the pair is recorded interrupted, the group stays recorded and goes once the host answers', async () => {
    const b = await bed();
    const { out, pair, pids } = await workerWithShadow(b);
    expect(out.outcome).toBe('ok');
    await b.sshd.stop();
    b.kill();
    const row = await ended(b);
    expect(row).toMatchObject({ shadow_status: 'interrupted', real_outcome: 'ok', shadow_cost_usd: b.fx.adapter.budget.perTaskUsd });
    // Its stream is out of reach too: it is charged its whole per-task cap, the most it may have spent.
    expect(row.shadow_error).toBe(`the killswitch stopped the shadow; its stream could not be read, so its per-task cap of $${b.fx.adapter.budget.perTaskUsd} is charged`);
    // Recorded, and tried in vain: alpha does not answer.
    await waitFor('the group recorded for alpha, its first try failed', () => pendingKillGroups(b.fx.db).find((g) => g.host === 'alpha' && g.pid === pair.pid && g.last_error !== null), 60_000, 50);
    // Out of reach, the shadow runs on; nothing is lost of the record that it must end.
    expect(pids.every((pid) => isAlive(pid))).toBe(true);
    await b.sshd.start();
    b.host.redial();
    await waitFor('the shadow group gone once alpha answers', () => pids.every((pid) => !isAlive(pid)), 60_000, 100);
    await waitFor('the termination record cleared', () => pendingKillGroups(b.fx.db).length === 0, 60_000, 100);
  }, 240_000);
});
