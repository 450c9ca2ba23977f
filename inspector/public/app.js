// The live view: one websocket (/ws) feeds everything; it reconnects by itself and every
// (re)connection starts with a full `hello`, so nothing depends on messages missed meanwhile.
// What is selected (list, task, tab, filters, sort) lives in the URL fragment: #task=T0-101&tab=diff.
import { activeIds, drawChart, idsForStatus } from './chart.js';
import { showTab, stopLive, TABS } from './detail.js';
import { renderHeader, retry, wireActions } from './header.js';
import { renderFilters, renderHeads, renderTasks } from './list.js';
import { renderAllTimelines } from './timeline.js';
import { renderShadow } from './shadow.js';
import { openSocket, takeEarlySocket } from './socket.js';
import { $, clock, elapsed, foldedJson, getJson, h, valueName } from './util.js';

const state = { snapshot: null, ledger: new Map(), actors: new Map(), sessions: new Map(), inspecting: false, selected: null, journal: null, travel: null, graphs: new Map(), shown: '' };
const ROUTE_KEYS = ['list', 'task', 'actor', 'tab', 'q', 'status', 'host', 'repo', 'from', 'to', 'sort', 'dir'];
let route = {};

// The token arrives once in the URL fragment (never sent to a server), then lives in this tab only.
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const t = p.get('token');
  if (t) (sessionStorage.setItem('oxi.token', t), p.delete('token'));
  route = Object.fromEntries(ROUTE_KEYS.filter((k) => p.get(k)).map((k) => [k, p.get(k)]));
  if (t) writeHash();
}
function writeHash() {
  const p = new URLSearchParams(Object.entries(route).filter(([, v]) => v));
  const s = p.toString();
  history.replaceState(null, '', s ? `#${s}` : location.pathname + location.search);
}
function setRoute(patch) {
  route = { ...route, ...patch };
  for (const k of Object.keys(route)) if (!route[k]) delete route[k];
  writeHash();
  apply();
}

// ------------------------------------------------------------------ lists
const LISTS = ['inflight', 'completed', 'timeline', 'activity', 'shadow'];
function renderLists() {
  renderShadow($('shadow'), state.snapshot?.shadow);
  renderFilters(state.snapshot?.tasks ?? [], route);
  renderHeads(route, setRoute);
  renderTasks(state.snapshot, route, { select: (id) => setRoute({ task: id, actor: null }), retry });
}
function ledgerItem(r) {
  const what = r.to ? `${r.from} → ${r.to}${r.event ? `  (${r.event})` : ''}` : r.kind;
  const extra = r.to || !Object.keys(r.payload ?? {}).length ? '' : foldedJson(r.payload, 100);
  return h('li', { 'data-id': r.id, 'data-kind': r.kind }, h('span', { class: 't' }, clock(r.at)), h('span', { class: 'a' }, r.actor), h('span', {}, what), h('span', { class: 'p' }, extra));
}
const renderLedger = () => $('ledger').replaceChildren(...[...state.ledger.values()].sort((a, b) => b.id - a.id).slice(0, 500).map(ledgerItem));
async function renderTimelineAll() {
  try {
    renderAllTimelines($('timeline-all'), await getJson('/api/v1/timeline?hours=24'), (id) => setRoute({ task: id, actor: null, tab: 'timeline' }));
  } catch (error) {
    $('timeline-all').replaceChildren(h('p', { class: 'notice' }, `timeline: ${error.message}`));
  }
}

// ------------------------------------------------------------------ statechart and journal
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
  if (!id || (route.tab && route.tab !== 'chart' && id.startsWith('task:'))) return;
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
  $('detail-state').textContent = label;
  await drawChart($('chart'), g, active, hot);
}
function renderJournal() {
  const entries = state.journal?.entries ?? [];
  $('journal').replaceChildren(...entries.slice().reverse().map((e) => {
    const li = e.to
      ? h('li', { 'data-id': e.id, class: state.travel?.id === e.id ? 'travel' : '' }, h('span', { class: 't' }, clock(e.at)), `${e.from} → ${e.to}`, h('span', { class: 'muted' }, e.event ?? ''))
      : h('li', { 'data-id': e.id, class: 'note' }, h('span', { class: 't' }, clock(e.at)), e.kind, h('span', { class: 'p' }, foldedJson(e.payload, 80)));
    if (e.to) li.addEventListener('click', () => ((state.travel = e), ($('journal-live').hidden = false), renderJournal(), renderChart()));
    return li;
  }));
}
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
let journalTimer = null, tabTimer = null;
const refreshJournalSoon = () => (clearTimeout(journalTimer), (journalTimer = setTimeout(loadJournal, 150)));

// ------------------------------------------------------------------ route → page
function renderDetailTabs() {
  const task = route.task;
  const tab = task && TABS.includes(route.tab) ? route.tab : 'chart';
  $('detail-tabs').hidden = !task;
  for (const b of document.querySelectorAll('[data-dtab]')) b.setAttribute('aria-selected', String(b.dataset.dtab === tab));
  $('pane-chart').hidden = tab !== 'chart';
  $('pane-task').hidden = tab === 'chart';
  const key = `${task}|${tab}`;
  if (key === state.shown) return;
  state.shown = key;
  if (tab === 'chart') return (stopLive(), renderChart());
  $('pane-task').replaceChildren();
  showTab($('pane-task'), task, tab);
}
function apply() {
  const list = LISTS.includes(route.list) ? route.list : 'inflight';
  for (const t of document.querySelectorAll('[data-list]')) t.setAttribute('aria-selected', String(t.dataset.list === list));
  for (const p of LISTS) $(`panel-${p}`).hidden = p !== list;
  if (list === 'timeline') renderTimelineAll();
  const selected = route.task ? `task:${route.task}` : route.actor ?? null;
  if (selected !== state.selected) {
    state.selected = selected;
    state.travel = null;
    state.journal = null;
    $('journal-live').hidden = true;
    renderActorSelect();
    loadJournal();
  }
  renderLists();
  renderDetailTabs();
}
/** The selected task's ledger moved: reload what its open tab shows (the transcript follows by itself). */
function taskMoved() {
  refreshJournalSoon();
  if (route.tab === 'diff' || route.tab === 'review' || route.tab === 'timeline') {
    clearTimeout(tabTimer);
    tabTimer = setTimeout(() => showTab($('pane-task'), route.task, route.tab), 400);
  }
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
let timelineTimer = null;
function onMessage(m) {
  if (m.type === 'hello') {
    state.snapshot = m.snapshot;
    state.ledger = new Map(m.ledger.map((r) => [r.id, r]));
    state.actors = new Map(m.actors.map((a) => [a.actor, a]));
    state.inspecting = m.inspection.enabled;
    state.sessions = new Map(m.inspection.sessions.map((s) => [s.sessionId, s]));
    renderHeader(state.snapshot), renderLists();
    // What the first screen does not show (the activity tab, the actor picker's 1,000 options) on the next frame.
    later(renderLedger), later(renderActorSelect), later(renderInspection);
    if (state.selected) loadJournal();
  } else if (m.type === 'snapshot') {
    state.snapshot = m.snapshot;
    later(() => renderHeader(state.snapshot)), later(renderLists), later(renderActorSelect);
  } else if (m.type === 'summary' && state.snapshot) {
    state.snapshot = { ...m.summary, tasks: state.snapshot.tasks };
    later(() => renderHeader(state.snapshot)), later(renderLists);
  } else if (m.type === 'tasks' && state.snapshot) {
    // Only these tasks changed: replace them (or add the new ones), redraw the lists on the next frame.
    const byId = new Map(m.tasks.map((t) => [t.id, t]));
    const tasks = state.snapshot.tasks.map((t) => byId.get(t.id) ?? t);
    for (const t of tasks) byId.delete(t.id);
    state.snapshot = { ...state.snapshot, tasks: [...tasks, ...byId.values()] };
    later(renderLists);
  } else if (m.type === 'ledger') {
    for (const r of m.rows) state.ledger.set(r.id, r);
    later(renderLedger);
    const sel = state.selected;
    if (sel && m.rows.some((r) => r.actor === sel || (sel.startsWith('task:') && r.task === sel.slice(5)))) taskMoved();
    if (route.list === 'timeline' && m.rows.some((r) => r.task)) (clearTimeout(timelineTimer), (timelineTimer = setTimeout(renderTimelineAll, 500)));
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
  // The first connection is the one socket.js opened at page start (the hello may be here already).
  const early = takeEarlySocket();
  const ws = early?.ws ?? openSocket();
  const opened = () => (($('conn').textContent = 'live'), ($('conn').className = 'conn live'), (backoff = 250));
  ws.onopen = opened;
  ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
  ws.onclose = () => {
    $('conn').textContent = 'reconnecting';
    $('conn').className = 'conn reconnecting';
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  };
  if (!early) return;
  if (ws.readyState === WebSocket.OPEN) opened();
  for (const ev of early.backlog) ws.onmessage(ev);
  if (ws.readyState === WebSocket.CLOSED) ws.onclose();
}

function wire() {
  for (const tab of document.querySelectorAll('[data-list]')) tab.addEventListener('click', () => setRoute({ list: tab.dataset.list }));
  for (const tab of document.querySelectorAll('[data-dtab]')) tab.addEventListener('click', () => setRoute({ tab: tab.dataset.dtab === 'chart' ? null : tab.dataset.dtab }));
  $('f-q').addEventListener('input', () => setRoute({ q: $('f-q').value }));
  for (const [id, key] of [['f-status', 'status'], ['f-host', 'host'], ['f-repo', 'repo'], ['f-from', 'from'], ['f-to', 'to']]) $(id).addEventListener('change', () => setRoute({ [key]: $(id).value }));
  $('f-clear').addEventListener('click', () => setRoute({ q: null, status: null, host: null, repo: null, from: null, to: null }));
  $('actor-select').addEventListener('change', (e) => {
    const v = e.target.value;
    setRoute(v.startsWith('task:') ? { task: v.slice(5), actor: null } : { task: null, actor: v || null, tab: null });
  });
  $('journal-live').addEventListener('click', () => ((state.travel = null), ($('journal-live').hidden = true), renderJournal(), renderChart()));
  window.addEventListener('hashchange', () => (readHash(), apply()));
  wireActions();
  setInterval(() => {
    for (const e of document.querySelectorAll('[data-since]')) e.textContent = elapsed(Date.now() - Number(e.dataset.since));
  }, 1000);
}

readHash();
wire();
apply();
connect();
