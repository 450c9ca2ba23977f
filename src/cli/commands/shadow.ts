/** `oxi shadow`: the shadow runs' pairs (agents.shadow), their agreement rate and cost delta (docs/agents.md). */
import { shadowReport, type ShadowPairView, type ShadowReport } from '../../store/shadow.js';
import { color, output, withStore, type GlobalOptions } from '../context.js';

const usd = (n: number | null) => (n === null ? '—' : `$${n.toFixed(4)}`);
const route = (backend: string, model: string | null) => (model ? `${backend}/${model}` : backend);

function pairLine(p: ShadowPairView): string {
  const match = p.shape_match === null ? color.dim('?') : p.shape_match ? color.green('match') : color.yellow('differ');
  const shadow = p.shadow.status === 'done' ? (p.shadow.outcome ?? '—') : p.shadow.status;
  return [
    `${p.task} a${p.attempt} f${p.fix}`.padEnd(18),
    `${route(p.real.backend, p.real.model)} ${p.real.outcome ?? 'running'}`.padEnd(28),
    `${route(p.shadow.backend, p.shadow.model)} ${shadow}`.padEnd(30),
    match.padEnd(8),
    `checks ${p.shadow.checks ?? '—'}`.padEnd(16),
    `Δ ${usd(p.costDeltaUsd)}`,
  ].join(' ');
}

export function shadowLines(report: ShadowReport, enabled: boolean): string {
  const head = enabled ? [] : [color.dim('shadow runs are off (agents.shadow is not set); pairs recorded earlier follow')];
  if (!report.pairs.length) return [...head, 'no shadow pairs yet'].join('\n');
  const rate = report.agreementRate === null ? '—' : `${Math.round(report.agreementRate * 100)}% (${report.matched}/${report.compared})`;
  return [
    ...head,
    `agreement ${rate}   cost real ${usd(report.realCostUsd)} shadow ${usd(report.shadowCostUsd)} delta ${usd(report.costDeltaUsd)}`,
    `${'session'.padEnd(18)} ${'real'.padEnd(28)} ${'shadow'.padEnd(30)} ${'shape'.padEnd(8)} ${'checks'.padEnd(16)} cost`,
    ...report.pairs.map(pairLine),
  ].join('\n');
}

export async function shadowCommand(global: GlobalOptions): Promise<void> {
  await withStore(global, (adapter, db) => {
    const report = shadowReport(db, 50);
    const enabled = Boolean(adapter.agents.shadow);
    output(global, { enabled, ...report }, () => shadowLines(report, enabled));
  });
}
