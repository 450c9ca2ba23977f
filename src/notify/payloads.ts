/**
 * What Slack and generic webhooks receive. Bodies pass through `redact` first: a notification
 * is built from task reasons and agent output, which could quote a token.
 */
export interface NotificationMessage {
  kind: string;
  title: string;
  body?: string;
  severity?: 'info' | 'warn' | 'error';
}

/** Well-known token shapes (GitHub, Slack, OpenAI/Anthropic-style keys, bearer headers). */
const TOKEN_PATTERNS = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g,
  /\bsk-[A-Za-z0-9_-]{16,}\b/g,
  /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/]+/g,
  /(authorization:\s*(?:bearer|token)\s+)\S+/gi,
];

/** Replaces the given secret values and well-known token shapes with `[redacted]`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 6) out = out.split(s).join('[redacted]');
  for (const p of TOKEN_PATTERNS) out = out.replace(p, (_m, prefix?: string) => (typeof prefix === 'string' && /authorization/i.test(prefix) ? `${prefix}[redacted]` : '[redacted]'));
  return out;
}

const ICON = { info: ':information_source:', warn: ':warning:', error: ':rotating_light:' } as const;
/** Slack rejects section texts over 3000 characters. */
const SLACK_SECTION_MAX = 3000;

/** A Slack incoming-webhook payload: `text` is the fallback (notifications), blocks render it. */
export function slackPayload(project: string, m: NotificationMessage): { text: string; blocks: unknown[] } {
  const severity = m.severity ?? 'info';
  const head = `${ICON[severity]} *${escapeSlack(m.title)}*`;
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: head } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `oxi · ${escapeSlack(project)} · ${escapeSlack(m.kind)} · ${severity}` }] },
  ];
  if (m.body) {
    for (const chunk of chunks(escapeSlack(m.body), SLACK_SECTION_MAX)) blocks.splice(blocks.length - 1, 0, { type: 'section', text: { type: 'mrkdwn', text: chunk } });
  }
  return { text: `[oxi ${project}] ${m.title}`, blocks };
}

/** The generic webhook payload (schema `oxi.notification.v1`). */
export function webhookPayload(project: string, m: NotificationMessage, at: number) {
  return {
    schema: 'oxi.notification.v1',
    project,
    kind: m.kind,
    severity: m.severity ?? 'info',
    title: m.title,
    body: m.body ?? null,
    at: new Date(at).toISOString(),
  };
}

function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > size) {
    const cut = rest.lastIndexOf('\n', size) > size / 2 ? rest.lastIndexOf('\n', size) : size;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  if (rest) out.push(rest);
  return out;
}
