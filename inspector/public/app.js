// The live view: one websocket (/ws) feeds everything; it reconnects by itself and every
// (re)connection starts with a full `hello`, so nothing depends on messages missed meanwhile.
import { activeIds, drawChart, idsForStatus } from './chart.js';

const $ = (id) => document.getElementById(id);
const RETRYABLE = new Set(['deferred', 'backoff', 'awaiting_human']);
const state = { snapshot: null, ledger: new Map(), actors: new Map(), sessions: new Map(), inspecting: false, selected: null, journal: null, travel: null, graphs: new Map() };

// The token arrives once in the URL fragment (never sent to a server), then lives in this tab only.
const hashToken = new URLSearchParams(location.hash.slice(1)).get('token');
if (hashToken) (sessionStorage.setItem('oxi.token', hashToken), history.replaceState(null, '', location.pathname + location.search));
const token = () => sessionStorage.getItem('oxi.token');

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) e.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}
const money = (n) => `$${Number(n).toFixed(n >= 10 ? 2 : 4).replace(/0+$/, '').replace(/\.$/, '.00')}`;
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
function elapsed(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `{live: {available: 'ready'}}` → `live.available.ready` */
function valueName(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return Object.entries(v).map(([k, inner]) => (typeof inner === 'string' ? `${k}.${inner}` : `${k}.${valueName(inner)}`)).join(', ');
}

function notice(text, ok = false) {
  const n = $('notice');
  n.textContent = text;
  n.className = ok ? 'notice ok' : 'notice';
  n.hidden = !text;
}

// ------------------------------------------------------------------ header and lists
function renderHeader() {
  const s = state.snapshot;
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
  $('hosts').replaceChildren(...s.hosts.map((x) => h('span', { class: `host${x.blocked ? ' blocked' : ''}`, 'data-host': x.name }, `${x.name} ${x.inUse}/${x.capacity}`)));
  const sb = s.sandbox;
  if (sb) $('hosts').append(h('span', { class: `host${sb.available ? '' : ' blocked'}`, 'data-testid': 'sandbox', title: sb.reason }, sb.available ? `agents sandboxed (${sb.kind})` : `agents are NOT sandboxed: ${sb.reason}`));
}

function prCell(t) {
  return t.pr ? h('a', { href: t.pr.url, target: '_blank', rel: 'noopener' }, `#${t.pr.number}`) : '';
}
function retryButton(t) {
  const b = h('button', { class: 'small', 'data-testid': `retry-${t.id}` }, 'retry');
  b.addEventListener('click', (ev) => (ev.stopPropagation(), act(`/api/v1/tasks/${encodeURIComponent(t.id)}/retry`, {}, `retry ${t.id}`)));
  return b;
}
function taskRow(t, cells) {
  const tr = h('tr', { class: `task${state.selected === `task:${t.id}` ? ' selected' : ''}`, 'data-task': t.id, 'data-status': t.status }, ...cells.map((c) => (c instanceof Node && c.tagName === 'TD' ? c : h('td', {}, c))));
  tr.addEventListener('click', () => select(`task:${t.id}`));
  return tr;
}

function renderTasks() {
  const tasks = state.snapshot?.tasks ?? [];
  const inflight = tasks.filter((t) => t.phase !== 'completed').sort((a, b) => (a.phase === 'queued') - (b.phase === 'queued'));
  const done = tasks.filter((t) => t.phase === 'completed').sort((a, b) => b.updatedAt - a.updatedAt);
  $('inflight-rows').replaceChildren(...inflight.map((t) => taskRow(t, [
    h('td', { class: 'id' }, t.id), t.title, h('span', { class: `state ${t.status}`, 'data-testid': `state-${t.id}` }, t.status), t.host ?? '',
    h('span', { class: 'since', 'data-since': t.lastProgressAt }, elapsed(Date.now() - t.lastProgressAt)), money(t.costUsd), prCell(t),
    RETRYABLE.has(t.status) ? retryButton(t) : '',
  ])));
  $('completed-rows').replaceChildren(...done.map((t) => taskRow(t, [
    h('td', { class: 'id' }, t.id), t.title, h('span', { class: `state ${t.status}`, 'data-testid': `state-${t.id}` }, t.status),
    h('td', { class: 'reason', title: t.reason ?? '' }, t.status === 'abandoned' ? t.reason ?? '' : ''), String(t.attempts), money(t.costUsd), prCell(t),
    t.status === 'abandoned' ? retryButton(t) : '',
  ])));
  $('inflight-empty').hidden = inflight.length > 0;
  $('completed-empty').hidden = done.length > 0;
  $('count-inflight').textContent = String(inflight.filter((t) => t.phase === 'in_flight').length);
  $('count-completed').textContent = String(done.length);
}

function ledgerItem(r) {
  const what = r.to ? `${r.from} → ${r.to}${r.event ? `  (${r.event})` : ''}` : r.kind;
  const extra = r.to ? '' : JSON.stringify(r.payload);
  return h('li', { 'data-id': r.id, 'data-kind': r.kind }, h('span', { class: 't' }, clock(r.at)), h('span', { class: 'a' }, r.actor), h('span', {}, what), h('span', { class: 'p' }, extra === '{}' ? '' : extra));
}
function renderLedger() {
  const rows = [...state.ledger.values()].sort((a, b) => b.id - a.id).slice(0, 500);
  $('ledger').replaceChildren(...rows.map(ledgerItem));
}

// ------------------------------------------------------------------ statechart and journal
async function getJson(url) {
  const headers = token() ? { authorization: `Bearer ${token()}` } : {};
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}
async function graph(machine) {
  if (!state.graphs.has(machine)) state.graphs.set(machine, await getJson(`/api/v1/machines/${encodeURIComponent(machine)}`));
  return state.graphs.get(machine);
}

function renderActorSelect() {
  const sel = $('actor-select');
  const ids = new Set([...state.actors.keys(), ...(state.snapshot?.tasks ?? []).map((t) => `task:${t.id}`)]);
  const sorted = [...ids].sort((a, b) => (a.startsWith('task:') - b.startsWith('task:')) || a.localeCompare(b));
  if (sel.options.length === sorted.length + 1 && sel.value === (state.selected ?? '')) return;
  sel.replaceChildren(h('option', { value: '' }, '—'), ...sorted.map((id) => h('option', { value: id, selected: id === state.selected }, id)));
  sel.value = state.selected ?? '';
}

async function renderChart() {
  const id = state.selected;
  if (!id) return;
  const actor = state.actors.get(id);
  const machine = actor?.machine ?? (id.startsWith('task:') ? 'task' : null);
  if (!machine) return;
  const g = await graph(machine);
  let active, hot = null, label;
  if (state.travel) {
    active = idsForStatus(g, state.travel.to);
    hot = { from: state.travel.from, to: state.travel.to };
    label = `${state.travel.to} (at ${clock(state.travel.at)})`;
  } else {
    active = actor ? activeIds(g, actor.value) : new Set();
    const last = [...(state.journal?.entries ?? [])].reverse().find((e) => e.to);
    if (last) hot = { from: last.from, to: last.to };
    label = actor ? valueName(actor.value) : 'queued (not an actor yet)';
  }
  drawChart($('chart'), g, active, hot);
  $('detail-state').textContent = label;
}

function renderJournal() {
  const list = $('journal');
  const entries = state.journal?.entries ?? [];
  list.replaceChildren(...entries.slice().reverse().map((e) => {
    const li = e.to
      ? h('li', { 'data-id': e.id, class: state.travel?.id === e.id ? 'travel' : '' }, h('span', { class: 't' }, clock(e.at)), `${e.from} → ${e.to}`, h('span', { class: 'muted' }, e.event ?? ''))
      : h('li', { 'data-id': e.id, class: 'note' }, h('span', { class: 't' }, clock(e.at)), e.kind, h('span', {}, JSON.stringify(e.payload)));
    if (e.to) li.addEventListener('click', () => ((state.travel = e), ($('journal-live').hidden = false), renderJournal(), renderChart()));
    return li;
  }));
}

let journalTimer = null;
async function loadJournal() {
  const id = state.selected;
  if (!id) return;
  const url = id.startsWith('task:') ? `/api/v1/tasks/${encodeURIComponent(id.slice(5))}/journal` : `/api/v1/actors/${encodeURIComponent(id)}/journal`;
  try {
    const j = await getJson(url);
    if (state.selected !== id) return;
    state.journal = j;
    if (j.current) state.actors.set(id, { ...state.actors.get(id), ...j.current });
  } catch {
    state.journal = { entries: [] };
  }
  renderJournal();
  await renderChart();
}
const refreshJournalSoon = () => (clearTimeout(journalTimer), (journalTimer = setTimeout(loadJournal, 150)));

function select(id) {
  state.selected = id || null;
  state.travel = null;
  state.journal = null;
  $('journal-live').hidden = true;
  renderActorSelect();
  renderTasks();
  loadJournal();
}

function renderInspection() {
  // Statechart sessions only: the effect promises they invoke come and go by the hundred.
  const machines = [...state.sessions.values()].filter((s) => s.machine);
  $('inspection-status').textContent = state.inspecting ? `${machines.length} actor sessions` : 'off (start with --inspect)';
  const rows = machines.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, 40);
  $('inspection').replaceChildren(...rows.map((s) => h('li', { 'data-session': s.sessionId, 'data-name': s.name }, h('span', { class: 'a' }, s.name), h('span', { class: 'muted' }, s.machine ?? ''), h('span', {}, valueName(s.value)), h('span', { class: 'muted' }, s.lastEvent ?? ''))));
}

// ------------------------------------------------------------------ the socket
const frame = { pending: false, jobs: new Set() };
function later(job) {
  frame.jobs.add(job);
  if (frame.pending) return;
  frame.pending = true;
  requestAnimationFrame(() => ((frame.pending = false), [...frame.jobs].forEach((j) => j()), frame.jobs.clear()));
}

function onMessage(m) {
  if (m.type === 'hello') {
    state.snapshot = m.snapshot;
    state.ledger = new Map(m.ledger.map((r) => [r.id, r]));
    state.actors = new Map(m.actors.map((a) => [a.actor, a]));
    state.inspecting = m.inspection.enabled;
    state.sessions = new Map(m.inspection.sessions.map((s) => [s.sessionId, s]));
    renderHeader(), renderTasks(), renderLedger(), renderActorSelect(), renderInspection();
    if (state.selected) loadJournal();
  } else if (m.type === 'snapshot') {
    state.snapshot = m.snapshot;
    later(renderHeader), later(renderTasks), later(renderActorSelect);
  } else if (m.type === 'ledger') {
    for (const r of m.rows) state.ledger.set(r.id, r);
    later(renderLedger);
    const sel = state.selected;
    if (sel && m.rows.some((r) => r.actor === sel || (sel.startsWith('task:') && r.task === sel.slice(5)))) refreshJournalSoon();
  } else if (m.type === 'actors') {
    for (const a of m.actors) state.actors.set(a.actor, a);
    if (m.actors.some((a) => a.actor === state.selected) && !state.travel) later(renderChart);
    later(renderActorSelect);
  } else if (m.type === 'inspect') {
    const e = m.event;
    const s = state.sessions.get(e.sessionId) ?? { sessionId: e.sessionId, name: e.sessionId, machine: null, value: null, lastEvent: null, updatedAt: e.at };
    if (e.type === '@xstate.actor') Object.assign(s, { name: e.name, machine: e.machine });
    if (e.type === '@xstate.snapshot') Object.assign(s, { value: e.value, lastEvent: e.event });
    s.updatedAt = e.at;
    state.sessions.set(e.sessionId, s);
    state.inspecting = true;
    later(renderInspection);
  }
}

let backoff = 250;
function connect() {
  const q = token() ? `?token=${encodeURIComponent(token())}` : '';
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${q}`);
  ws.onopen = () => (($('conn').textContent = 'live'), ($('conn').className = 'conn live'), (backoff = 250));
  ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
  ws.onclose = () => {
    $('conn').textContent = 'reconnecting';
    $('conn').className = 'conn reconnecting';
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  };
}

// ------------------------------------------------------------------ actions (the token is always required)
async function act(path, body, what) {
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

function wire() {
  for (const tab of document.querySelectorAll('[role=tab]')) {
    tab.addEventListener('click', () => {
      for (const t of document.querySelectorAll('[role=tab]')) t.setAttribute('aria-selected', String(t === tab));
      for (const p of document.querySelectorAll('[role=tabpanel]')) p.hidden = p.id !== `panel-${tab.dataset.tab}`;
    });
  }
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
  $('actor-select').addEventListener('change', (e) => select(e.target.value));
  $('journal-live').addEventListener('click', () => ((state.travel = null), ($('journal-live').hidden = true), renderJournal(), renderChart()));
  setInterval(() => {
    for (const e of document.querySelectorAll('[data-since]')) e.textContent = elapsed(Date.now() - Number(e.dataset.since));
  }, 1000);
}

wire();
connect();
