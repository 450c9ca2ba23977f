import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { redact } from '../../src/notify/payloads.js';
import { makeNotifier } from '../../src/notify/notifier.js';

/** A local stand-in for Slack / a webhook receiver: answers with the scripted statuses in order. */
async function receiver(statuses: number[]) {
  const requests: Array<{ path: string; headers: IncomingMessage['headers']; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      res.statusCode = statuses[Math.min(requests.length - 1, statuses.length - 1)];
      res.end(res.statusCode < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const FAST = { retries: 3, minTimeoutMs: 5, maxTimeoutMs: 20, requestTimeoutMs: 2000 };
const GH_TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

function adapterWith(notifications: unknown[]) {
  return validateConfig(
    { name: 'widgets', notifications, repo: { forge: { kind: 'github', owner: 'acme', name: 'widgets', tokenEnv: 'GH_TOKEN' } } },
    { configPath: '/tmp/x/oxi.config.json' },
  );
}

function collect() {
  const lines = { log: [] as string[], err: [] as string[] };
  return { lines, out: { log: (s: string) => lines.log.push(s), err: (s: string) => lines.err.push(s) } };
}

describe('slack notifier', () => {
  it('posts an incoming-webhook payload, retries on 5xx, and sends no secret', async () => {
    const slack = await receiver([500, 503, 200]);
    const webhookUrl = `${slack.url}/services/T000/B000/secretpart`;
    const { lines, out } = collect();
    const notifier = makeNotifier(adapterWith([{ kind: 'slack', webhookEnv: 'SLACK_URL' }]), {
      out, retry: FAST, env: { SLACK_URL: webhookUrl, GH_TOKEN },
    });
    await notifier.notify({ kind: 'escalation', severity: 'error', title: 'oxi halted: restart intensity exceeded', body: `push failed with token ${GH_TOKEN} <x>` });
    const results = await notifier.flush();

    expect(results).toEqual([expect.objectContaining({ backend: 'slack', kind: 'escalation', ok: true, attempts: 3, status: 200 })]);
    expect(slack.requests).toHaveLength(3);
    expect(slack.requests[0].path).toBe('/services/T000/B000/secretpart');
    expect(slack.requests[0].headers['content-type']).toBe('application/json');
    const payload = JSON.parse(slack.requests[2].body);
    expect(payload).toEqual({
      text: '[oxi widgets] oxi halted: restart intensity exceeded',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: ':rotating_light: *oxi halted: restart intensity exceeded*' } },
        { type: 'section', text: { type: 'mrkdwn', text: 'push failed with token [redacted] &lt;x&gt;' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'oxi · widgets · escalation · error' }] },
      ],
    });
    for (const r of slack.requests) {
      expect(r.body).not.toContain(GH_TOKEN);
      expect(r.body).not.toContain('secretpart');
    }
    expect(lines.err).toEqual([]);
  });

  it('gives up after the retries, reports on stderr without the URL, and never throws', async () => {
    const slack = await receiver([502]);
    const { lines, out } = collect();
    const notifier = makeNotifier(adapterWith([{ kind: 'slack', webhookEnv: 'SLACK_URL' }]), { out, retry: FAST, env: { SLACK_URL: `${slack.url}/hook-secret` } });
    await expect(notifier.notify({ kind: 'deadman', title: 'No progress' })).resolves.toBeUndefined();
    const [result] = await notifier.flush();
    expect(result).toMatchObject({ ok: false, attempts: 4, status: 502, error: 'HTTP 502' });
    expect(slack.requests).toHaveLength(4);
    expect(lines.err.join('')).toContain('slack notification "deadman" failed after 4 attempt(s): HTTP 502');
    expect(lines.err.join('')).not.toContain('hook-secret');
  });

  it('does not retry a 4xx other than 429', async () => {
    const slack = await receiver([404, 200]);
    const notifier = makeNotifier(adapterWith([{ kind: 'slack', webhookEnv: 'SLACK_URL' }]), { out: collect().out, retry: FAST, env: { SLACK_URL: slack.url } });
    await notifier.notify({ kind: 'oauth', title: 'x' });
    const [result] = await notifier.flush();
    expect(result).toMatchObject({ ok: false, attempts: 1, status: 404 });
    expect(slack.requests).toHaveLength(1);
  });

  it('notify returns before a slow receiver answers: delivery never blocks the caller', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = createServer((req, res) => void gate.then(() => res.end('ok')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const notifier = makeNotifier(adapterWith([{ kind: 'webhook', urlEnv: 'HOOK' }]), { out: collect().out, retry: FAST, env: { HOOK: url } });
    let returned = false;
    await notifier.notify({ kind: 'brief', title: 't' }).then(() => (returned = true));
    expect(returned).toBe(true);
    const flushed = notifier.flush();
    release();
    expect((await flushed)[0]).toMatchObject({ ok: true, attempts: 1 });
    server.closeAllConnections();
  });

  it('reports a missing webhook variable once, on stderr, without sending', async () => {
    const { lines, out } = collect();
    const notifier = makeNotifier(adapterWith([{ kind: 'slack', webhookEnv: 'SLACK_URL' }]), { out, retry: FAST, env: {} });
    await notifier.notify({ kind: 'a', title: 'x' });
    await notifier.notify({ kind: 'b', title: 'y' });
    expect(await notifier.flush()).toMatchObject([{ ok: false, attempts: 0 }, { ok: false, attempts: 0 }]);
    expect(lines.err).toHaveLength(1);
    expect(lines.err[0]).toContain('$SLACK_URL is not set');
  });
});

describe('generic webhook notifier', () => {
  it('posts oxi.notification.v1 JSON, retries on 5xx, redacts secrets; log and stderr get the line', async () => {
    const hook = await receiver([500, 200]);
    const { lines, out } = collect();
    const notifier = makeNotifier(adapterWith([{ kind: 'log' }, { kind: 'stderr' }, { kind: 'webhook', urlEnv: 'HOOK_URL' }]), {
      out, retry: FAST, env: { HOOK_URL: `${hook.url}/in?key=hook-key-123`, GH_TOKEN }, now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    });
    await notifier.notify({ kind: 'budget', severity: 'warn', title: 'Daily hard budget cap reached', body: `Authorization: token ${GH_TOKEN}` });
    const [result] = await notifier.flush();
    expect(result).toMatchObject({ backend: 'webhook', ok: true, attempts: 2 });
    expect(hook.requests[1].path).toBe('/in?key=hook-key-123');
    expect(JSON.parse(hook.requests[1].body)).toEqual({
      schema: 'oxi.notification.v1',
      project: 'widgets',
      kind: 'budget',
      severity: 'warn',
      title: 'Daily hard budget cap reached',
      body: 'Authorization: token [redacted]',
      at: '2026-01-02T03:04:05.000Z',
    });
    expect(hook.requests.every((r) => !r.body.includes(GH_TOKEN) && !r.body.includes('hook-key-123'))).toBe(true);
    expect(lines.log).toEqual(['[oxi warn] budget: Daily hard budget cap reached\nAuthorization: token [redacted]\n']);
    expect(lines.err).toEqual(lines.log);
  });
});

describe('redact', () => {
  it('hides known token shapes and the given secret values', () => {
    expect(redact('a xoxb-1234567890-abcdef b sk-ant-abcdefghijklmnop1234 c my-secret-value', ['my-secret-value'])).toBe('a [redacted] b [redacted] c [redacted]');
  });
});

