import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { DashboardError } from '../src/errors.js';

export interface DashboardToken {
  value: string;
  /** Generated for this run (printed once), rather than read from the adapter's variable. */
  generated: boolean;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Any loopback address: 127.0.0.0/8, ::1 in any spelling, ::ffff:127.x.y.z, localhost (with or without brackets). */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (LOOPBACK_NAMES.has(a) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a)) return true;
  // ::1 written out: every group zero but the last, which is 1 (e.g. 0:0:0:0:0:0:0:1).
  return /^[0:]*:0*1$/.test(a) && isIP(a) === 6;
}

/**
 * The token every action needs (and every read too, off loopback): from the environment
 * variable the adapter names (`engine.dashboard.tokenEnv`), else a fresh random one.
 */
export function resolveToken(tokenEnv: string | undefined, env: NodeJS.ProcessEnv = process.env): DashboardToken {
  if (tokenEnv) {
    const value = env[tokenEnv];
    if (!value || value.length < 16) {
      throw new DashboardError(
        `The adapter says the dashboard token is in $${tokenEnv}, but that variable is ${value ? `only ${value.length} characters long` : 'not set'} (expected at least 16).`,
        { fix: `export ${tokenEnv}=$(openssl rand -hex 24), or remove engine.dashboard.tokenEnv to get a token generated at start.` },
      );
    }
    return { value, generated: false };
  }
  return { value: randomBytes(24).toString('base64url'), generated: true };
}

/** Constant-time comparison (through digests, so lengths do not leak either). */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>`; the websocket may pass `?token=` (browsers cannot set its headers). */
export function presentedToken(req: IncomingMessage, allowQuery: boolean): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  if (!allowQuery) return undefined;
  return new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
}

function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon > 0 ? hostHeader.slice(0, colon) : hostHeader;
}

/**
 * Bound to loopback, the page must have been reached by a loopback name: a foreign Host
 * header means a DNS-rebinding page is talking to us through the victim's browser.
 */
export function hostAllowed(req: IncomingMessage, loopbackBind: boolean): boolean {
  const host = req.headers.host;
  if (!host) return false;
  return !loopbackBind || isLoopback(hostName(host));
}

/**
 * Browsers always send Origin on websocket upgrades and cross-site POSTs: it must be this
 * very server. Non-browser clients (curl, the CLI, the Stately inspector client) send none.
 */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  return Boolean(host) && (origin === `http://${host}` || origin === `https://${host}`);
}
