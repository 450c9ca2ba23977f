/** Keys whose values never leave the process, at any depth (tokens, keys, passwords…). */
const SECRET_KEY = /(token|secret|password|passwd|api[_-]?key|private[_-]?key|credential|cookie|authorization|auth)$/i;

/**
 * A copy safe to show on the page: secret-looking keys redacted, depth and size bounded so one
 * huge context (an agent transcript) cannot flood the socket.
 */
export function sanitize(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string' && value.length > 4000) return `${value.slice(0, 4000)}…`;
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    return value;
  }
  if (depth > 8) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => sanitize(v, depth + 1));
  // Actor references in context: show their id, never their internals.
  if ('sessionId' in value && 'send' in value) return { actor: (value as { id?: string }).id ?? '?' };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : sanitize(v, depth + 1);
  return out;
}
