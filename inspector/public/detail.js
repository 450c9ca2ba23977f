// The task detail tabs besides the statechart: diff, transcript (live), review (plan, critic
// verdicts, checks, cost per role) and timeline. Each loads when shown and again when the
// task's ledger moves.
import { renderDiff } from './diff.js';
import { renderTaskTimeline } from './timeline.js';
import * as transcript from './transcript.js';
import { foldedJson, getJson, h, money, stamp } from './util.js';

export const TABS = ['chart', 'diff', 'transcript', 'review', 'timeline'];
const url = (task, what) => `/api/v1/tasks/${encodeURIComponent(task)}/${what}`;

function section(title, ...body) {
  return h('section', { class: 'review-part' }, h('h3', {}, title), ...body);
}

function renderReview(container, o) {
  const plan = o.plan
    ? h('div', {}, o.plan.summary ? h('p', {}, o.plan.summary) : '', o.plan.files_touched ? h('p', {}, 'files: ', o.plan.files_touched.map((f) => h('code', { class: 'chip' }, f))) : '', o.plan.risk ? h('p', { class: 'muted' }, `risk: ${o.plan.risk}`) : '', foldedJson(o.plan))
    : h('p', { class: 'muted' }, 'No plan yet.');
  const verdicts = o.verdicts.length
    ? h('ol', { class: 'verdicts', 'data-testid': 'verdicts' }, o.verdicts.map((v) => h('li', { class: `verdict ${v.verdict}` }, h('span', { class: `state ${v.verdict === 'approve' ? 'merged' : 'abandoned'}` }, v.verdict), ` ${stamp(v.at)}${v.needsHuman ? ' · needs a human' : ''}${v.headSha ? ` · head ${v.headSha.slice(0, 12)}` : ''}`, v.reasons.length ? h('ul', {}, v.reasons.map((r) => h('li', {}, r))) : '')))
    : h('p', { class: 'muted' }, 'No verdict yet.');
  const c = o.checks;
  const checks = h('div', { 'data-testid': 'checks' },
    h('p', {}, c.state ? h('span', { class: `state ${c.state === 'success' ? 'merged' : c.state === 'failure' ? 'abandoned' : ''}` }, c.state) : h('span', { class: 'muted' }, 'not run'), ` · ${c.runs.length} run${c.runs.length === 1 ? '' : 's'}`),
    c.firstFailure ? h('div', {}, h('p', {}, 'First failure:'), h('pre', { class: 'wrap failure', 'data-testid': 'first-failure' }, c.firstFailure)) : '',
    c.log ? h('details', { 'data-testid': 'checks-log' }, h('summary', {}, `Full log (${c.log.length} characters)`), h('pre', { class: 'wrap log' }, c.log)) : '');
  const roles = Object.entries(o.costByRole);
  const cost = h('table', { class: 'cost', 'data-testid': 'cost-by-role' }, h('tbody', {}, roles.map(([r, usd]) => h('tr', {}, h('td', {}, r), h('td', {}, money(usd)))), h('tr', { class: 'total' }, h('td', {}, 'total'), h('td', {}, money(o.costUsd)))));
  container.replaceChildren(
    h('p', { class: 'muted' }, `attempt ${o.attempts}${o.reason ? ` · ${o.reason}` : ''}`),
    ...(o.triage ? [section('Why it stopped (triage)', h('p', { 'data-testid': 'triage' }, o.triage))] : []),
    section('Plan', plan), section('Critic', verdicts), section('Checks', checks), section('Cost per role', cost));
}

/** Loads and shows `tab` of `task` in `container`; errors are shown in place. */
export async function showTab(container, task, tab) {
  if (tab !== 'transcript') transcript.stop();
  try {
    if (tab === 'transcript') return transcript.start(container, task);
    if (!container.childElementCount) container.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
    if (tab === 'diff') renderDiff(container, await getJson(url(task, 'diff')));
    if (tab === 'review') renderReview(container, await getJson(url(task, 'overview')));
    if (tab === 'timeline') renderTaskTimeline(container, await getJson(url(task, 'timeline')));
  } catch (error) {
    container.replaceChildren(h('p', { class: 'notice' }, `${tab}: ${error.message}`));
  }
}

export const stopLive = () => transcript.stop();
