import { collectBrief } from '../../brief/collect.js';
import { briefTitle, renderBrief } from '../../brief/render.js';
import { UsageError } from '../../errors.js';
import { makeNotifier } from '../../notify/notifier.js';
import { output, withStore, type GlobalOptions } from '../context.js';

export async function briefCommand(global: GlobalOptions & { hours?: string; until?: string; post?: boolean }): Promise<number> {
  const hours = Number(global.hours ?? 24);
  if (!Number.isFinite(hours) || hours <= 0) throw new UsageError(`--hours: expected a number of hours > 0, got ${JSON.stringify(global.hours)}.`, { fix: 'e.g. oxi brief --hours 24' });
  const now = global.until === undefined ? Date.now() : Date.parse(global.until);
  if (Number.isNaN(now)) throw new UsageError(`--until: expected an ISO date/time such as 2026-01-02T09:00Z, got ${JSON.stringify(global.until)}.`);
  return withStore(global, async (adapter, db) => {
    const data = collectBrief(db, adapter, { now, hours });
    const markdown = renderBrief(data);
    if (!global.post) {
      output(global, { ...data, markdown }, () => markdown.trimEnd());
      return 0;
    }
    if (!global.json) process.stderr.write(`oxi brief: posting through ${adapter.notifications.map((n) => n.kind).join(', ')}…\n`);
    const notifier = makeNotifier(adapter, { out: { log: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) } });
    await notifier.notify({ kind: 'brief', severity: 'info', title: briefTitle(data), body: markdown });
    const deliveries = await notifier.flush();
    const failed = deliveries.filter((d) => !d.ok);
    if (global.json) output(global, { ...data, markdown, deliveries }, () => '');
    else for (const d of deliveries) process.stderr.write(`oxi brief: ${d.backend}: ${d.ok ? `delivered (${d.attempts} attempt${d.attempts === 1 ? '' : 's'})` : `not delivered: ${d.error}`}\n`);
    return failed.length ? 1 : 0;
  });
}
