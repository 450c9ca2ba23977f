// The header (project, engine state, spend, hosts, gates) and the actions: kill, unkill, retry,
// the token form. Every action needs the token; a refusal is shown, never swallowed.
import { $, h, money, notice, token } from './util.js';

export function renderHeader(s) {
  if (!s) return;
  $('project').textContent = s.project;
  const e = s.engine;
  $('engine').className = `badge ${e.state}`;
  $('engine').textContent = e.state === 'killed' || e.state === 'halted' ? `${e.state}: ${e.reason ?? ''}${e.hard ? ' (hard)' : ''}` : e.state;
  const sp = s.spend, pct = Math.min(100, (sp.today / sp.dailyHardUsd) * 100);
  const fill = h('i', { class: sp.today >= sp.dailyHardUsd ? 'over' : sp.today >= sp.dailySoftUsd ? 'warn' : '' });
  fill.style.width = `${pct}%`; // through the CSSOM: the page's CSP forbids style attributes
  const bar = h('span', { class: 'bar', title: `soft ${money(sp.dailySoftUsd)} · hard ${money(sp.dailyHardUsd)}` }, fill);
  const gate = sp.gate === 'hard' ? ' · hard cap: nothing new starts today' : sp.gate === 'soft' ? ' · soft cap: no new task starts today' : '';
  const paused = e.dispatchPaused ? ` · dispatch paused: ${e.dispatchPaused}` : '';
  $('spend').replaceChildren(h('span', {}, `${money(sp.today)} today`), bar, h('span', { class: 'muted' }, `soft ${money(sp.dailySoftUsd)} · hard ${money(sp.dailyHardUsd)}${gate}${paused}`));
  // One engine, several repositories: each one's share of today's spend (and its own cap, if set).
  const repos = s.repos ?? [];
  if (repos.length > 1) $('spend').append(h('span', { class: 'muted', 'data-testid': 'repo-spend' }, repos.map((r) => `${r.name} ${money(r.todayUsd)}${r.dailyHardUsd === null || r.dailyHardUsd >= sp.dailyHardUsd ? '' : ` / ${money(r.dailyHardUsd)}`}`).join(' · ')));
  // One banner line per closed outage gate: what is closed, why, and until when.
  const gates = s.gates ?? [];
  $('gates').hidden = gates.length === 0;
  $('gates').replaceChildren(...gates.map((g) => h('div', { 'data-gate': g.name }, `${g.name} closed: ${g.reason ?? ''}${g.resetAt ? ` — resets ${new Date(g.resetAt).toLocaleString()}` : ' — probing'}. No task or attempt is lost; it reopens by itself.`)));
  renderPromote(s.promote);
  $('hosts').replaceChildren(...s.hosts.map((x) => h('span', { class: `host${x.blocked ? ' blocked' : ''}`, 'data-host': x.name }, `${x.name} ${x.inUse}/${x.capacity}`)));
  const sb = s.sandbox;
  if (sb) $('hosts').append(h('span', { class: `host${sb.available ? '' : ' blocked'}`, 'data-testid': 'sandbox', title: sb.reason }, sb.available ? `agents sandboxed (${sb.kind})` : `agents are NOT sandboxed: ${sb.reason}`));
}

// One line per promote recipe: its schedule and its last runs (newest first), failures marked.
function renderPromote(p) {
  const recipes = p?.recipes ?? [];
  $('promote').hidden = recipes.length === 0;
  $('promote').replaceChildren(...recipes.map((r) => h('div', { 'data-promote': r.name },
    h('b', {}, `promote ${r.name}`), ` ${r.schedule}${r.enabled ? '' : ' (not enabled)'} · `,
    ...(r.runs.length ? r.runs.slice(0, 3).map((x) => h('span', { class: x.ok ? 'ok' : 'fail', title: `${x.trigger} · ${Math.round(x.durationMs / 100) / 10} s` }, `${new Date(x.at).toLocaleString()} ${x.ok ? 'ok' : 'FAILED'} (${x.summary}) `)) : [h('span', { class: 'muted' }, 'no runs yet')]),
  )));
}

export async function act(path, body, what) {
  const headers = { 'content-type': 'application/json' };
  if (token()) headers.authorization = `Bearer ${token()}`;
  const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  const out = await res.json().catch(() => ({}));
  if (res.ok) notice(`${what}: done`, true);
  else {
    notice(`${what} refused (${res.status}): ${out.error ?? res.statusText}${res.status === 401 || res.status === 403 ? ' — enter the token printed when the dashboard started.' : ''}`);
    if (res.status === 401 || res.status === 403) $('token-form').hidden = false;
  }
  return res.ok;
}

export const retry = (t) => act(`/api/v1/tasks/${encodeURIComponent(t.id)}/retry`, {}, `retry ${t.id}`);

export function wireActions() {
  $('kill').addEventListener('click', () => (($('kill-form').hidden = false), $('kill-reason').focus()));
  $('kill-cancel').addEventListener('click', () => ($('kill-form').hidden = true));
  $('kill-confirm').addEventListener('click', async () => {
    const reason = $('kill-reason').value.trim();
    if (!reason) return notice('kill: say why (the reason is recorded in the ledger).');
    if (await act('/api/v1/kill', { reason, hard: $('kill-hard').checked }, 'kill')) $('kill-form').hidden = true;
  });
  $('unkill').addEventListener('click', () => act('/api/v1/unkill', {}, 'unkill'));
  $('token-button').addEventListener('click', () => ($('token-form').hidden = !$('token-form').hidden));
  $('token-save').addEventListener('click', () => {
    const v = $('token-input').value.trim();
    if (v) sessionStorage.setItem('oxi.token', v);
    $('token-input').value = '';
    $('token-form').hidden = true;
    notice('token set for this tab', true);
  });
  $('token-forget').addEventListener('click', () => (sessionStorage.removeItem('oxi.token'), notice('token forgotten', true)));
}
