import os from 'node:os';
import { join } from 'node:path';
import type { SshHostConfig } from '../../../src/config/schema.js';
import { SshHost, type SshHostOptions } from './ssh-host.js';

/** known_hosts used when the adapter names none: the user's own, as ssh(1) would. */
export function defaultKnownHosts(): string {
  return join(os.homedir(), '.ssh', 'known_hosts');
}

/** The SSH transport of one adapter host entry (keys: its identityFile, else the ssh agent). */
export function sshHostFromConfig(cfg: SshHostConfig, tuning: Partial<SshHostOptions> = {}): SshHost {
  return new SshHost({
    name: cfg.name,
    address: cfg.address,
    port: cfg.port,
    user: cfg.user,
    identityFile: cfg.identityFile,
    knownHosts: cfg.knownHosts ?? defaultKnownHosts(),
    keepaliveIntervalMs: cfg.connection?.keepaliveIntervalMs,
    keepaliveCountMax: cfg.connection?.keepaliveCountMax,
    readyTimeoutMs: cfg.connection?.connectTimeoutMs,
    commandTimeoutMs: cfg.connection?.commandTimeoutMs,
    execTimeoutMs: cfg.connection?.execTimeoutMs,
    ...tuning,
  });
}
