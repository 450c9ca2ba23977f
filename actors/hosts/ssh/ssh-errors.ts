/**
 * What went wrong on an SSH connection, in words: what was expected, what came, how to fix it.
 * Every failure that leaves the remote work in an unknown state is a HostUnreachableError (or its
 * RemoteChannelError kind), which callers treat as "cannot see", never as "the worker is gone".
 */
import { HostKeyError, HostUnreachableError, RemoteChannelError } from '../../../src/errors.js';
import type { SshTarget } from './connection-pool.js';
import { fingerprint, hostPattern, keyTypeOf, type KeyCheck } from './known-hosts.js';

export interface ErrorContext extends SshTarget {
  /** `user@address:port (host "name")` */
  where: string;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  readyTimeoutMs: number;
}

/** Where the adapter tunes a host's connection (docs/remote-hosts.md). */
const tuning = (ctx: ErrorContext, field: string) => `hosts[name="${ctx.name}"].connection.${field}`;

/** The connection could not be set up: refused, timed out, failed authentication, or a host key that does not match. */
export function connectFailure(ctx: ErrorContext, error: Error & { level?: string }, check: KeyCheck | undefined, presented: Buffer | undefined): Error {
  const name = hostPattern(ctx.address, ctx.port);
  if (check && check.status !== 'match' && presented) {
    const fp = fingerprint(presented);
    const type = keyTypeOf(presented);
    if (check.status === 'unknown') {
      return new HostKeyError(`Expected the host key of ${name} (host "${ctx.name}") in ${ctx.knownHosts}; it is not there (the host presented ${type} ${fp}).`, {
        fix: `Verify the fingerprint out of band, then add it: ssh-keyscan -p ${ctx.port} -t ${type.replace(/^ssh-/, '')} ${ctx.address} >> ${ctx.knownHosts}`,
      });
    }
    if (check.status === 'revoked') {
      return new HostKeyError(`The host key of ${name} (host "${ctx.name}") is marked @revoked in ${ctx.knownHosts} (line ${check.entry.line}); refusing to connect.`, {
        fix: 'Replace the key on the host, then record the new one.',
      });
    }
    return new HostKeyError(`Expected ${name} (host "${ctx.name}") to present the key recorded in ${ctx.knownHosts} (line ${check.expected.map((e) => e.line).join(', ')}); it presented a different one: ${type} ${fp}. Someone may be intercepting the connection, or the host was reinstalled.`, {
      fix: `If the host was really re-keyed, remove the old entry (ssh-keygen -R '${name}' -f ${ctx.knownHosts}) and add the new one after verifying it.`,
    });
  }
  if (/timed out while waiting for handshake/i.test(error.message)) {
    return new HostUnreachableError(`Expected ${ctx.where} to complete the SSH handshake within ${ctx.readyTimeoutMs} ms; it did not answer in time (no banner, or a stalled key exchange).`, {
      fix: `Check that the host is up and not overloaded and that nothing between here and it drops packets; on a slow link raise ${tuning(ctx, 'connectTimeoutMs')}.`,
      cause: error,
    });
  }
  const auth = /authentication/i.test(error.message) || error.level === 'client-authentication';
  return new HostUnreachableError(`Expected to connect to ${ctx.where}; ${auth ? 'authentication failed' : 'it failed'}: ${error.message}.`, {
    fix: auth
      ? `Check hosts[].user and that the key (${ctx.identityFile ?? 'from the ssh agent'}) is in the user's authorized_keys on the host.`
      : `Check that the host is up and sshd listens on port ${ctx.port} (ssh -p ${ctx.port} ${ctx.user}@${ctx.address} true).`,
    cause: error,
  });
}

/** An established connection broke: a reset, a close, or keepalives left unanswered (a silent partition). */
export function connectionLost(ctx: ErrorContext, cause: Error & { level?: string }): HostUnreachableError {
  const keepalive = /keepalive timeout/i.test(cause.message);
  const what = keepalive
    ? `no answer to ${ctx.keepaliveCountMax} keepalives sent every ${ctx.keepaliveIntervalMs} ms (the network to the host is down or silently dropping packets)`
    : cause.message;
  return new HostUnreachableError(`Lost the connection to ${ctx.where}: ${what}.`, {
    fix: keepalive
      ? `The work on that host is left as it is; the engine reconnects and looks again. Check the network to the host; to detect a partition sooner or later, tune ${tuning(ctx, 'keepaliveIntervalMs')} and ${tuning(ctx, 'keepaliveCountMax')}.`
      : 'The work on that host is left as it is; the engine reconnects and looks again. Check the network and sshd there.',
    cause,
  });
}

/** The server refused the session channel, or refused to run the command on it. */
export function channelRefused(ctx: ErrorContext, what: string, cause: Error): RemoteChannelError {
  const exec = /exec/i.test(cause.message);
  return new RemoteChannelError(exec
    ? `Expected ${ctx.where} to run a command on an open session channel; it refused the exec request (${cause.message}) for ${what}.`
    : `Expected ${ctx.where} to open a session channel; it refused: ${cause.message}.`, {
    fix: exec
      ? 'Check the host\'s sshd_config for ForceCommand or a restricted shell for this user, and that sshd there is OpenSSH.'
      : 'Check MaxSessions in the host\'s sshd_config and the load on the host.',
    cause,
  });
}

/** The channel closed without an exit status: whatever the command did, its outcome is unknown. */
export function noExitStatus(ctx: ErrorContext, what: string, stdoutBytes: number): RemoteChannelError {
  return new RemoteChannelError(`Expected an exit status from ${ctx.where} for ${what}; the channel closed without one (after ${stdoutBytes} bytes of output), so the command's outcome is unknown.`, {
    fix: 'The engine treats the host as out of reach and asks again; if it keeps happening, check the sshd logs on the host (a killed session process, or a server that is not OpenSSH).',
  });
}

/** The command did not finish (no exit status, no close) within its bound. */
export function commandTimedOut(ctx: ErrorContext, what: string, timeoutMs: number, setting: string): RemoteChannelError {
  return new RemoteChannelError(`Expected ${ctx.where} to finish ${what} within ${timeoutMs} ms; no exit status came, so the channel was closed and the outcome is unknown.`, {
    fix: `Check the load on the host (a full disk or a hung mount can stall even small commands); if the host is just slow, raise ${tuning(ctx, setting)}.`,
  });
}
