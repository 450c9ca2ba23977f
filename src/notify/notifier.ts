import type { Adapter, NotificationConfig } from '../config/schema.js';
import { DEFAULT_RETRY, postJson, type DeliveryResult, type RetryPolicy } from './http.js';
import { redact, slackPayload, webhookPayload, type NotificationMessage } from './payloads.js';
import type { Notifier } from '../ports.js';

export interface NotifierOptions {
  out?: { log: (s: string) => void; err: (s: string) => void };
  /** Where `webhookEnv` / `urlEnv` are looked up (default: process.env). */
  env?: Record<string, string | undefined>;
  retry?: RetryPolicy;
  now?: () => number;
}

export interface Delivery extends DeliveryResult {
  backend: NotificationConfig['kind'];
  kind: string;
}

/** A Notifier whose HTTP deliveries run in the background; `flush` waits for them. */
export interface DeliveringNotifier extends Notifier {
  /** Waits for every delivery started so far (at most `timeoutMs`) and returns their results. */
  flush(timeoutMs?: number): Promise<Delivery[]>;
}

/**
 * The notifiers chosen in the adapter: `log` (stdout of the daemon), `stderr`, `slack`
 * (incoming webhook) and `webhook` (JSON POST). `notify` never blocks the engine and never
 * throws: HTTP deliveries are started in the background, retried with backoff, and a final
 * failure is reported on stderr (without the URL, which is a secret).
 */
export function makeNotifier(adapter: Adapter, options: NotifierOptions = {}): DeliveringNotifier {
  const out = options.out ?? { log: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) };
  const env = options.env ?? process.env;
  const retry = options.retry ?? DEFAULT_RETRY;
  const now = options.now ?? Date.now;
  const inFlight = new Set<Promise<Delivery>>();
  const settled: Delivery[] = [];
  const warnedMissing = new Set<string>();

  // Values of every secret the adapter names: never sent, even if a message quotes one.
  const secretValues = (): string[] =>
    secretEnvNames(adapter)
      .map((n) => env[n])
      .filter((v): v is string => typeof v === 'string' && v.length > 0);

  function start(target: NotificationConfig & { kind: 'slack' | 'webhook' }, message: NotificationMessage): void {
    const envName = target.kind === 'slack' ? target.webhookEnv : target.urlEnv;
    const url = env[envName];
    if (!url) {
      if (!warnedMissing.has(envName)) {
        warnedMissing.add(envName);
        safe(() => out.err(`oxi: ${target.kind} notifications are configured but $${envName} is not set: not sent (set it in the daemon's environment; oxi doctor checks it)\n`));
      }
      settled.push({ backend: target.kind, kind: message.kind, ok: false, attempts: 0, error: `$${envName} is not set` });
      return;
    }
    const body = target.kind === 'slack' ? slackPayload(adapter.name, message) : webhookPayload(adapter.name, message, now());
    const p = postJson(url, body, retry).then((r): Delivery => {
      if (!r.ok) safe(() => out.err(`oxi: ${target.kind} notification "${message.kind}" failed after ${r.attempts} attempt(s): ${r.error}\n`));
      return { backend: target.kind, kind: message.kind, ...r };
    });
    inFlight.add(p);
    void p.then((d) => {
      inFlight.delete(p);
      settled.push(d);
    });
  }

  return {
    async notify(raw) {
      const secrets = secretValues();
      const message: NotificationMessage = { ...raw, title: redact(raw.title, secrets), ...(raw.body === undefined ? {} : { body: redact(raw.body, secrets) }) };
      const line = `[oxi ${message.severity ?? 'info'}] ${message.kind}: ${message.title}${message.body ? `\n${message.body}` : ''}\n`;
      for (const n of adapter.notifications) {
        // A notifier never takes the engine down.
        if (n.kind === 'log') safe(() => out.log(line));
        else if (n.kind === 'stderr') safe(() => out.err(line));
        else safe(() => start(n, message));
      }
    },
    async flush(timeoutMs = 60_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
      await Promise.race([Promise.allSettled([...inFlight]), timeout]);
      clearTimeout(timer);
      return settled.splice(0);
    },
  };
}

/** Names of the environment variables holding secrets in this adapter. */
export function secretEnvNames(adapter: Adapter): string[] {
  const names = new Set<string>();
  for (const f of [adapter.repo.forge, ...(adapter.repos ?? []).map((r) => r.repo.forge)]) if (f.kind === 'github') names.add(f.tokenEnv);
  if (adapter.engine.dashboard.tokenEnv) names.add(adapter.engine.dashboard.tokenEnv);
  for (const n of adapter.notifications) {
    if (n.kind === 'slack') names.add(n.webhookEnv);
    if (n.kind === 'webhook') names.add(n.urlEnv);
  }
  for (const n of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN']) names.add(n);
  return [...names];
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // ignore: delivery problems are reported, never thrown
  }
}
