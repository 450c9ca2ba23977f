// The "agent shadow" panel (agents.shadow): the last 50 pairs of a worker session and its shadow run,
// the agreement rate (share of shape_match) and the cost delta, from the snapshot's `shadow` field.
import { h, money } from './util.js';

const route = (side) => (side.model ? `${side.backend}/${side.model}` : side.backend);
const usd = (n) => (n === null || n === undefined ? '—' : `${n < 0 ? '−' : ''}${money(Math.abs(n))}`);
const files = (list) => (list ? list.join(', ') || '(none)' : '—');

function pairRow(p) {
  const match = p.shape_match === null ? '?' : p.shape_match ? 'match' : 'differ';
  const shadow = p.shadow.status === 'done' ? p.shadow.outcome ?? '—' : p.shadow.status;
  return h('tr', { 'data-task': p.task, 'data-shape-match': String(p.shape_match) },
    h('td', {}, `${p.task} a${p.attempt} f${p.fix}`),
    h('td', { title: files(p.real.files) }, `${route(p.real)} ${p.real.outcome ?? 'running'}`),
    h('td', { title: p.shadow.error ?? files(p.shadow.files) }, `${route(p.shadow)} ${shadow}`),
    h('td', { class: `shape ${match}` }, match),
    h('td', { title: p.shadow.checksReason ?? '' }, p.shadow.checks ?? '—'),
    h('td', {}, usd(p.costDeltaUsd)));
}

export function renderShadow(el, shadow) {
  if (!el) return;
  if (!shadow || (!shadow.enabled && !shadow.pairs.length)) return el.replaceChildren(h('p', { class: 'empty' }, 'Shadow runs are off (agents.shadow is not set).'));
  const rate = shadow.agreementRate === null ? '—' : `${Math.round(shadow.agreementRate * 100)}% (${shadow.matched}/${shadow.compared})`;
  const summary = h('p', { class: 'muted', 'data-testid': 'shadow-summary' },
    h('span', { 'data-testid': 'shadow-agreement' }, `agreement ${rate}`), ' · ',
    h('span', { 'data-testid': 'shadow-cost-delta' }, `cost delta ${usd(shadow.costDeltaUsd)}`),
    ` (real ${usd(shadow.realCostUsd)}, shadow ${usd(shadow.shadowCostUsd)})`);
  if (!shadow.pairs.length) return el.replaceChildren(summary, h('p', { class: 'empty' }, 'No shadow pairs yet.'));
  const head = h('tr', {}, ...['session', 'real', 'shadow', 'shape', 'checks', 'cost Δ'].map((t) => h('th', {}, t)));
  el.replaceChildren(summary, h('table', { class: 'tasks', 'data-testid': 'shadow-pairs' }, h('thead', {}, head), h('tbody', {}, ...shadow.pairs.map(pairRow))));
}
