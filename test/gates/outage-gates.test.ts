/**
 * The outage gates on their own: a real SQLite ledger, a manual clock, a recording notifier; the forge
 * gate in front of the real GitHubForge talking to the fake GitHub, whose token is revoked for a window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitHubForge } from '../../actors/forges/github/github-forge.js';
import { makeOctokit } from '../../actors/forges/github/client.js';
import { ManualClock, systemClock } from '../../src/clock.js';
import { ForgeAuthError } from '../../src/errors.js';
import type { Notifier } from '../../src/ports.js';
import { AGENT_GATE_CLOSED, AGENT_GATE_OPENED, agentGatesFromLedger, AgentGates } from '../../src/gates/agent-gates.js';
import { FORGE_GATE_CLOSED, FORGE_GATE_OPENED, forgeGateFromLedger, ForgeGate } from '../../src/gates/forge-gate.js';
import { openDb } from '../../src/store/db.js';
import { listEvents } from '../../src/store/ledger.js';
import { makeRepo } from '../helpers/git-repo.js';
import { attachFakeGitHub, OWNER, REPO, TOKEN } from '../helpers/github-remote.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function bed(clock = new ManualClock()) {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-gates-'));
  const db = openDb(join(dir, 'oxi.db'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => db.close());
  const sent: Array<{ kind: string; title: string }> = [];
  const notifier: Notifier = { notify: async (m) => void sent.push(m) };
  return { db, clock, sent, notifier };
}

const rows = (db: ReturnType<typeof openDb>, kind: string) => listEvents(db, { kindPrefix: kind }).filter((e) => e.kind === kind);

describe('AgentGates', () => {
  it('a rate limit twice in a row closes that backend only (one row, one notification); the next session after the probe time is the probe; success reopens (one row)', () => {
    const b = bed();
    const gates = new AgentGates({ db: b.db, clock: b.clock, notifier: b.notifier, probeBaseMs: 1000, probeMaxMs: 8000 });
    cleanups.push(() => gates.stop());
    const t0 = b.clock.now();
    gates.record('claude', 'rate_limited', {}, 'API Error: 429');
    expect(gates.admit('claude')).toBe(true); // one can be a blip
    gates.record('claude', 'rate_limited', {}, 'API Error: 429');
    gates.record('claude', 'rate_limited', {}, 'API Error: 429'); // a session already in flight: no second row
    expect(gates.admit('claude')).toBe(false);
    expect(gates.admit('codex')).toBe(true);
    expect(rows(b.db, AGENT_GATE_CLOSED)).toHaveLength(1);
    expect(b.sent.filter((m) => m.kind === AGENT_GATE_CLOSED)).toHaveLength(1);
    expect(gates.closedFor('claude')).toMatchObject({ outage: 'rate_limited', nextProbeAt: t0 + 1000 });
    expect(agentGatesFromLedger(b.db)).toEqual([expect.objectContaining({ backend: 'claude', closed: true, outage: 'rate_limited' })]);

    b.clock.advance(1000);
    expect(gates.admit('claude')).toBe(true); // the probe
    expect(gates.admit('claude')).toBe(false); // only one
    gates.record('claude', 'rate_limited', {}, 'still 429');
    expect(gates.closedFor('claude')!.nextProbeAt).toBe(t0 + 1000 + 2000); // doubled
    b.clock.advance(2000);
    expect(gates.admit('claude')).toBe(true);
    gates.record('claude', 'ok');
    expect(gates.admit('claude')).toBe(true);
    expect(rows(b.db, AGENT_GATE_OPENED)).toHaveLength(1);
    expect(agentGatesFromLedger(b.db)).toEqual([expect.objectContaining({ backend: 'claude', closed: false })]);
  });

  it('a usage limit with a reset time an hour away closes at once and probes no earlier than the reset; overloads never close it', () => {
    const b = bed();
    const gates = new AgentGates({ db: b.db, clock: b.clock, notifier: b.notifier, probeBaseMs: 1000, probeMaxMs: 8000 });
    cleanups.push(() => gates.stop());
    const t0 = b.clock.now();
    for (let i = 0; i < 5; i++) gates.record('codex', 'overloaded', {}, '529');
    expect(gates.closedFor('codex')).toBeUndefined();
    gates.record('claude', 'rate_limited', { retryAfterMs: 3_600_000 }, 'usage limit reached');
    expect(gates.closedFor('claude')).toMatchObject({ nextProbeAt: t0 + 3_600_000 });
    b.clock.advance(3_599_999);
    expect(gates.admit('claude')).toBe(false);
    b.clock.advance(1);
    expect(gates.admit('claude')).toBe(true);
    // A restart while closed stays closed (the ledger is the latch).
    const again = new AgentGates({ db: b.db, clock: b.clock, probeBaseMs: 1000, probeMaxMs: 8000 });
    cleanups.push(() => again.stop());
    expect(again.closedFor('claude')).toBeDefined();
  });

  it('an auth failure (401) counts like a rate limit; the agent\'s own failure proves the key works and reopens', () => {
    const b = bed();
    const gates = new AgentGates({ db: b.db, clock: b.clock, notifier: b.notifier, probeBaseMs: 1000, probeMaxMs: 8000 });
    cleanups.push(() => gates.stop());
    gates.record('claude', 'auth', {}, 'Failed to authenticate. API Error: 401');
    gates.record('claude', 'auth', {}, 'Failed to authenticate. API Error: 401');
    expect(gates.closedFor('claude')).toMatchObject({ outage: 'auth' });
    expect(b.sent[0].title).toMatch(/Agent backend claude closed: credentials rejected/);
    b.clock.advance(1000);
    expect(gates.admit('claude')).toBe(true);
    gates.record('claude', 'failed', {}, 'Reached maximum number of turns');
    expect(gates.closedFor('claude')).toBeUndefined();
  });
});

describe('ForgeGate in front of GitHub', () => {
  it('a 401 window closes the forge gate (one row, one notification), no request is sent while closed, and the next call after the probe time reopens it', async () => {
    const b = bed(new ManualClock(Date.now()));
    const r = makeRepo();
    cleanups.push(r.cleanup);
    const gh = await attachFakeGitHub(r.dir, r.scratch);
    cleanups.push(() => gh.stop());
    const client = makeOctokit({ token: TOKEN, baseUrl: gh.url, pacing: false, retryBaseMs: 5 });
    const github = new GitHubForge({ client, owner: OWNER, repo: REPO, mainClone: r.dir, mainBranch: 'main', remote: 'origin', branchPrefix: 'oxi/', clock: systemClock, pollMs: 10, checksTimeoutMs: 10_000 });
    const gate = new ForgeGate({ db: b.db, clock: b.clock, notifier: b.notifier, probeBaseMs: 5000, probeMaxMs: 60_000 });
    cleanups.push(() => gate.stop());
    const forge = gate.wrap(github);

    expect(await forge.listOpenPrs()).toEqual([]);
    gh.o.token = 'rotated-elsewhere'; // the key oxi holds is no longer valid
    await expect(forge.listOpenPrs()).rejects.toBeInstanceOf(ForgeAuthError);
    const sentWhileOpen = gh.requests.length;
    for (let i = 0; i < 20; i++) await expect(forge.getPr(1)).rejects.toMatchObject({ outage: 'auth' });
    expect(gh.requests.length).toBe(sentWhileOpen); // nothing sent while closed
    expect(rows(b.db, FORGE_GATE_CLOSED)).toHaveLength(1);
    expect(b.sent.filter((m) => m.kind === FORGE_GATE_CLOSED)).toHaveLength(1);
    expect(forgeGateFromLedger(b.db)).toMatchObject({ closed: true, reason: expect.stringMatching(/^401 /) });

    b.clock.advance(5000);
    await expect(forge.listOpenPrs()).rejects.toBeInstanceOf(ForgeAuthError); // the probe, still refused
    expect(gh.requests.length).toBe(sentWhileOpen + 1);
    gh.o.token = TOKEN; // the key is back
    b.clock.advance(4999);
    await expect(forge.listOpenPrs()).rejects.toBeInstanceOf(ForgeAuthError); // backing off: not yet
    b.clock.advance(5001);
    expect(await forge.listOpenPrs()).toEqual([]);
    expect(rows(b.db, FORGE_GATE_OPENED)).toHaveLength(1);
    expect(forgeGateFromLedger(b.db).closed).toBe(false);
    expect(b.sent.filter((m) => m.kind === FORGE_GATE_CLOSED)).toHaveLength(1);
  });

  it('a secondary rate limit (403 with retry-after) is not a credentials problem: the gate stays open', async () => {
    const b = bed();
    const r = makeRepo();
    cleanups.push(r.cleanup);
    const gh = await attachFakeGitHub(r.dir, r.scratch);
    cleanups.push(() => gh.stop());
    const client = makeOctokit({ token: TOKEN, baseUrl: gh.url, pacing: false, retryBaseMs: 5, maxRetries: 0 });
    const github = new GitHubForge({ client, owner: OWNER, repo: REPO, mainClone: r.dir, mainBranch: 'main', remote: 'origin', branchPrefix: 'oxi/', clock: systemClock, pollMs: 10, checksTimeoutMs: 10_000 });
    const gate = new ForgeGate({ db: b.db, clock: b.clock, probeBaseMs: 5000, probeMaxMs: 60_000 });
    cleanups.push(() => gate.stop());
    gh.secondaryRateLimit(/pulls/, 1);
    await gate.wrap(github).listOpenPrs().catch(() => undefined);
    expect(gate.state().closed).toBe(false);
  });
});
