import type { Clock } from '../clock.js';
import { ForgeAuthError } from '../errors.js';
import type { Forge, Notifier } from '../ports.js';
import type { Db } from '../store/db.js';
import { Gate, type GateState } from './gate.js';
import { lastEventOfKinds } from '../store/ledger-queries.js';

export const FORGE_GATE_CLOSED = 'forge.gate_closed';
export const FORGE_GATE_OPENED = 'forge.gate_opened';

/**
 * Is this a refusal of our credentials (401, or a 403 that is not a rate limit)? Looks through a
 * ForgeError's cause chain for the HTTP status octokit reported.
 */
export function forgeAuthStatus(error: unknown): number | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const status = (e as { status?: unknown }).status;
    if (status === 401) return 401;
    if (status === 403) {
      const message = String((e as { message?: unknown }).message ?? '');
      const headers = (e as { response?: { headers?: Record<string, string> } }).response?.headers ?? {};
      // A 403 that is a (secondary) rate limit is throttling's business, not the credentials'.
      if (/rate limit|abuse/i.test(message) || headers['x-ratelimit-remaining'] === '0' || headers['retry-after']) return undefined;
      return 403;
    }
  }
  return undefined;
}

export interface ForgeGateOptions {
  db: Db;
  clock: Clock;
  notifier?: Notifier;
  probeBaseMs: number;
  probeMaxMs: number;
}

/**
 * The forge's gate: the first 401/403 closes it (a token does not heal by itself between two calls),
 * one row and one notification; while closed no request is sent and every forge call fails at once
 * with a ForgeAuthError the task machine waits out at its PR step, uncounted. The next call after the
 * probe time is let through as the probe; its success reopens the gate.
 */
export class ForgeGate {
  readonly gate: Gate;

  constructor(options: ForgeGateOptions) {
    this.gate = new Gate({
      ...options,
      name: 'forge',
      closedKind: FORGE_GATE_CLOSED,
      openedKind: FORGE_GATE_OPENED,
      describeClose: (reason) =>
        `Forge closed: ${reason}. No request goes to the forge until a probe succeeds (first in ${Math.round(options.probeBaseMs / 1000)} s, then backing off); PR steps wait without counting failures, no task is lost. Export a valid token (oxi doctor checks it) — the gate reopens by itself.`,
    });
  }

  state(): GateState {
    return this.gate.state();
  }

  stop(): void {
    this.gate.stop();
  }

  /** The forge with every call behind the gate. */
  wrap(forge: Forge): Forge {
    const gate = this.gate;
    const call = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      if (!gate.admit()) {
        const s = gate.state();
        throw new ForgeAuthError(`The forge gate is closed (${s.reason ?? 'credentials rejected'}): ${name} not sent; next probe at ${new Date(s.nextProbeAt ?? 0).toISOString()}.`, s.nextProbeAt ?? undefined, {
          fix: 'Export a valid forge token; the gate reopens by itself at its next probe.',
        });
      }
      try {
        const result = await fn();
        gate.open({ probe: name });
        return result;
      } catch (error) {
        const status = forgeAuthStatus(error);
        if (status === undefined) {
          // The forge answered (a 404, a 5xx): our credentials worked, or it says nothing about them.
          if (gate.closed && typeof (error as { status?: unknown })?.status === 'number') gate.open({ probe: name });
          throw error;
        }
        if (gate.closed) gate.probeFailed();
        else gate.close(`${status} from the forge on ${name}: ${String((error as Error)?.message ?? error).split('\n')[0].slice(0, 200)}`);
        throw new ForgeAuthError(`The forge refused the credentials (${status}) on ${name}: ${(error as Error)?.message ?? error}`, gate.state().nextProbeAt ?? undefined, {
          cause: error,
          fix: 'Export a valid token in the variable repo.forge.tokenEnv names (oxi doctor checks it); the forge gate reopens by itself.',
        });
      }
    };
    return new Proxy(forge, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || prop === 'constructor') return value;
        return (...args: unknown[]) => call(String(prop), () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    });
  }
}

/** The forge gate as the ledger has it (for `oxi status` and the dashboard). */
export function forgeGateFromLedger(db: Db): { closed: boolean; reason: string | null; since: number | null } {
  const last = lastEventOfKinds(db, [FORGE_GATE_CLOSED, FORGE_GATE_OPENED]);
  if (last?.kind !== FORGE_GATE_CLOSED) return { closed: false, reason: null, since: null };
  return { closed: true, reason: String((JSON.parse(last.payload) as { reason?: string }).reason ?? 'credentials rejected'), since: last.at };
}
