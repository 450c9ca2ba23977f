import { OUTCOME_POLICY, resetTimeOf, type OutageKind, type OutcomeKind } from '../../machines/outcome.js';
import type { Clock } from '../clock.js';
import type { Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { Gate, type GateState } from './gate.js';
import { lastEventPerSubject, payloadValuesOfKind } from '../store/ledger-queries.js';

export const AGENT_GATE_CLOSED = 'agent.gate_closed';
export const AGENT_GATE_OPENED = 'agent.gate_opened';

/**
 * When a rate limit or an auth failure "persists" and closes its backend's gate: two in a row on that
 * backend (one can be a blip: a burst limit, a token refreshed mid-call), or one whose reset time is at
 * least a minute away (the provider says so itself: a plan's usage limit).
 */
export const GATE_AFTER_CONSECUTIVE = 2;
export const GATE_ON_RESET_AT_LEAST_MS = 60_000;

export interface AgentGatesOptions {
  db: Db;
  clock: Clock;
  notifier?: Notifier;
  /** First probe delay when the provider named no reset time, doubled per failed probe up to probeMaxMs. */
  probeBaseMs: number;
  probeMaxMs: number;
}

/** What the router and the worker watcher tell the gates, and ask of them. */
export interface AgentGatesPort {
  /** May a session start on this backend now (open, or this one is the probe)? */
  admit(backend: string): boolean;
  /** How a session on this backend ended (its classification, the reset time or requested wait if any). */
  record(backend: string, kind: OutcomeKind, reset?: { resetAt?: number; retryAfterMs?: number }, error?: string, startedAt?: number): void;
  /** A closed backend's outage kind and when it is probed next (epoch ms); undefined when open. */
  closedFor(backend: string): { outage: OutageKind; nextProbeAt: number; reason: string } | undefined;
}

/**
 * One gate per agent backend: a persistent rate limit or auth failure closes dispatch of new sessions on
 * that backend only (the router's fallback routes go on), one row and one notification; the next real
 * session after the reset time (or the probe backoff) is the probe, and its success reopens the gate.
 */
export class AgentGates implements AgentGatesPort {
  private readonly gates = new Map<string, Gate>();
  private readonly streak = new Map<string, number>();
  private readonly kinds = new Map<string, OutageKind>();

  constructor(private readonly options: AgentGatesOptions) {
    // Gates closed before a restart stay closed (their rows are the latch).
    for (const backend of payloadValuesOfKind(options.db, AGENT_GATE_CLOSED, 'backend')) this.gate(backend);
  }

  admit(backend: string): boolean {
    return this.gate(backend).admit();
  }

  closedFor(backend: string): { outage: OutageKind; nextProbeAt: number; reason: string } | undefined {
    const s = this.gate(backend).state();
    if (!s.closed) return undefined;
    return { outage: this.kinds.get(backend) ?? (/credentials/.test(s.reason ?? '') ? 'auth' : 'rate_limited'), nextProbeAt: s.nextProbeAt ?? this.options.clock.now(), reason: s.reason ?? '' };
  }

  record(backend: string, kind: OutcomeKind, reset: { resetAt?: number; retryAfterMs?: number } = {}, error?: string, startedAt?: number): void {
    const gate = this.gate(backend);
    // A session started before the gate closed says nothing about now (its API calls may predate the outage).
    const since = gate.state().since;
    if (gate.closed && startedAt !== undefined && since !== null && startedAt < since) return;
    const resetAt = resetTimeOf(reset, this.options.clock.now());
    if (!OUTCOME_POLICY[kind].gates) {
      // The API answered (ok, or the agent's own failure): the credentials and the limit are fine. Overload / network say nothing.
      if (kind === 'ok' || kind === 'failed' || kind === 'rejected') {
        this.streak.set(backend, 0);
        gate.open({ probe: 'session' });
      }
      return;
    }
    if (gate.closed) return gate.probeFailed(resetAt);
    const streak = (this.streak.get(backend) ?? 0) + 1;
    this.streak.set(backend, streak);
    const farReset = resetAt !== undefined && resetAt - this.options.clock.now() >= GATE_ON_RESET_AT_LEAST_MS;
    if (streak >= GATE_AFTER_CONSECUTIVE || farReset) {
      const what = kind === 'auth' ? 'credentials rejected' : 'rate limited';
      this.kinds.set(backend, kind as OutageKind);
      gate.close(`${what}: ${(error ?? kind).slice(0, 240)}`, resetAt, { outage: kind });
    }
  }

  states(): GateState[] {
    return [...this.gates.values()].map((g) => g.state());
  }

  stop(): void {
    for (const g of this.gates.values()) g.stop();
  }

  private gate(backend: string): Gate {
    let gate = this.gates.get(backend);
    if (!gate) {
      gate = new Gate({
        db: this.options.db,
        clock: this.options.clock,
        ...(this.options.notifier ? { notifier: this.options.notifier } : {}),
        name: `agent:${backend}`,
        closedKind: AGENT_GATE_CLOSED,
        openedKind: AGENT_GATE_OPENED,
        subject: { backend },
        probeBaseMs: this.options.probeBaseMs,
        probeMaxMs: this.options.probeMaxMs,
        describeClose: (reason, resetAt) =>
          `Agent backend ${backend} closed: ${reason}. No new ${backend} session starts until ${resetAt ? `its reset time ${new Date(resetAt).toISOString()}` : 'a probe succeeds'} (other backends' fallback routes go on); no task or attempt is lost meanwhile.`,
      });
      this.gates.set(backend, gate);
    }
    return gate;
  }
}

/** The agent gates as the ledger has them (for `oxi status` and the dashboard, without a running engine). */
export function agentGatesFromLedger(db: Db): Array<{ backend: string; closed: boolean; reason: string | null; since: number | null; resetAt: number | null; outage: string | null }> {
  const rows = lastEventPerSubject(db, [AGENT_GATE_CLOSED, AGENT_GATE_OPENED], 'backend');
  return rows.map((r) => {
    const p = JSON.parse(r.payload) as { backend: string; reason?: string; resetAt?: number | null; outage?: string };
    const closed = r.kind === AGENT_GATE_CLOSED;
    return { backend: p.backend, closed, reason: closed ? p.reason ?? null : null, since: closed ? r.at : null, resetAt: closed ? p.resetAt ?? null : null, outage: closed ? p.outage ?? null : null };
  });
}
