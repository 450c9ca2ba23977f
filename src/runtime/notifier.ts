import type { Adapter } from '../config/schema.js';
import type { Notifier } from '../ports.js';

/**
 * The embedded notifiers: `log` (stdout of the daemon) and `stderr`. Delivery never blocks or
 * fails the engine. Slack and webhooks are adapter options implemented by the operator issue.
 */
export function makeNotifier(adapter: Adapter, out: { log: (s: string) => void; err: (s: string) => void } = { log: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Notifier {
  return {
    async notify(message) {
      const line = `[oxi ${message.severity ?? 'info'}] ${message.kind}: ${message.title}${message.body ? `\n${message.body}` : ''}\n`;
      for (const n of adapter.notifications) {
        try {
          if (n.kind === 'log') out.log(line);
          else if (n.kind === 'stderr') out.err(line);
        } catch {
          // a notifier never takes the engine down
        }
      }
    },
  };
}
