/**
 * Host key verification against an OpenSSH known_hosts file: plain and hashed (`|1|salt|hmac`) host
 * patterns, `[host]:port` for non-standard ports, `*`/`?` wildcards, `!` negation and `@revoked`.
 * An unknown host or a changed key is an error with the line to add or remove — never accepted silently.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface KnownHostEntry {
  line: number;
  marker?: '@revoked' | '@cert-authority';
  patterns: string;
  keyType: string;
  key: string; // base64 of the wire-format public key
}

export type KeyCheck =
  | { status: 'match'; entry: KnownHostEntry }
  | { status: 'unknown' }
  | { status: 'changed'; expected: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostEntry['marker'];
    const [patterns, keyType, key] = fields;
    if (!patterns || !keyType || !key) return;
    entries.push({ line: i + 1, marker, patterns, keyType, key });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/** Whether an entry's host patterns name this host (a matching `!pattern` excludes it). */
export function entryNames(entry: KnownHostEntry, name: string): boolean {
  if (entry.patterns.startsWith('|')) return hashedMatch(entry.patterns, name);
  let hit = false;
  for (const p of entry.patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) hit = true;
  }
  return hit;
}

/** Compares the key the server presented (wire format) with the entries for host:port. */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, presented: Buffer): KeyCheck {
  const name = hostPattern(host, port);
  const b64 = presented.toString('base64');
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && entryNames(e, name));
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key === b64);
  if (revoked) return { status: 'revoked', entry: revoked };
  const match = mine.find((e) => !e.marker && e.key === b64);
  if (match) return { status: 'match', entry: match };
  const expected = mine.filter((e) => !e.marker);
  return expected.length ? { status: 'changed', expected } : { status: 'unknown' };
}

/** `SHA256:…` as ssh-keygen -l prints it. */
export function fingerprint(presented: Buffer): string {
  return `SHA256:${createHash('sha256').update(presented).digest('base64').replace(/=+$/, '')}`;
}

/** Key type named inside the wire-format key (e.g. ssh-ed25519). */
export function keyTypeOf(presented: Buffer): string {
  const len = presented.readUInt32BE(0);
  return presented.subarray(4, 4 + len).toString('latin1');
}

export function readKnownHosts(path: string): KnownHostEntry[] {
  try {
    return parseKnownHosts(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
