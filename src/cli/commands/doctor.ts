import { checkHosts } from '../../doctor/hosts.js';
import { color, output, resolveAdapter, type GlobalOptions } from '../context.js';

const MARK = { ok: color.green('ok  '), fail: color.red('FAIL'), warn: color.yellow('warn'), skip: color.dim('skip') } as const;

/** `oxi doctor`: host checks; exit 1 when any check fails. */
export async function doctorCommand(global: GlobalOptions): Promise<number> {
  const adapter = await resolveAdapter(global);
  const hosts = await checkHosts(adapter);
  const ok = hosts.every((h) => h.ok);
  output(global, { ok, hosts }, () =>
    hosts
      .map((h) => [
        `${h.ok ? color.green('●') : color.red('●')} ${h.host} (${h.kind})${h.latencyMs === undefined ? '' : color.dim(` ${h.latencyMs} ms`)}`,
        ...h.checks.map((c) => `    ${MARK[c.status]} ${c.name.padEnd(12)} ${c.detail}${c.fix && c.status !== 'ok' ? `\n         fix: ${c.fix}` : ''}`),
      ].join('\n'))
      .join('\n'),
  );
  return ok ? 0 : 1;
}
