// The task lists: search and filters (id/title, status, host, repository, date), sortable
// columns, retry where the CLI allows it. Everything the user picks lives in the URL fragment.
import { $, elapsed, h, money } from './util.js';

// The statuses `task.retry` means something in (inspector/actions.ts), for snapshots without `retryable`.
const RETRYABLE = new Set(['deferred', 'backoff', 'pr_backoff', 'awaiting_human', 'abandoned']);
export const canRetry = (t) => t.retryable ?? RETRYABLE.has(t.status);

const COLUMNS = {
  inflight: [['id', 'task'], ['title', 'title'], ['status', 'state'], ['host', 'host'], ['lastProgressAt', 'since progress'], ['costUsd', 'cost'], ['pr', 'PR'], [null, '']],
  completed: [['id', 'task'], ['title', 'title'], ['status', 'outcome'], ['reason', 'reason'], ['attempts', 'attempts'], ['costUsd', 'cost'], ['pr', 'PR'], [null, '']],
};

const dayStart = (s) => (s ? new Date(`${s}T00:00:00`).getTime() : null);

export function filterTasks(tasks, r) {
  const q = (r.q ?? '').trim().toLowerCase();
  const from = dayStart(r.from), to = dayStart(r.to);
  return tasks.filter((t) =>
    (!q || t.id.toLowerCase().includes(q) || t.title.toLowerCase().includes(q)) &&
    (!r.status || t.status === r.status) &&
    (!r.host || (t.host ?? '') === r.host) &&
    (!r.repo || (t.repo ?? '') === r.repo) &&
    (from === null || t.updatedAt >= from) &&
    (to === null || t.updatedAt < to + 86_400_000));
}

function sortValue(t, key) {
  if (key === 'pr') return t.pr?.number ?? -1;
  if (key === 'id') return t.id.replace(/\d+/g, (d) => d.padStart(8, '0'));
  const v = t[key];
  return typeof v === 'string' ? v.toLowerCase() : v ?? '';
}
export function sortTasks(tasks, key, dir) {
  if (!key) return tasks;
  const k = dir === 'desc' ? -1 : 1;
  return [...tasks].sort((a, b) => {
    const x = sortValue(a, key), y = sortValue(b, key);
    return (x < y ? -1 : x > y ? 1 : 0) * k;
  });
}

function options(select, values, current, all) {
  const key = values.join('\u0000') + '|' + current;
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  select.replaceChildren(h('option', { value: '' }, all), ...values.map((v) => h('option', { value: v, selected: v === current }, v)));
  select.value = current ?? '';
}

/** The filter bar's choices follow the tasks there are; its values follow the route. */
export function renderFilters(tasks, r) {
  const uniq = (f) => [...new Set(tasks.map(f).filter(Boolean))].sort();
  options($('f-status'), uniq((t) => t.status), r.status, 'any status');
  options($('f-host'), uniq((t) => t.host), r.host, 'any host');
  options($('f-repo'), uniq((t) => t.repo), r.repo, 'any repository');
  if (document.activeElement !== $('f-q')) $('f-q').value = r.q ?? '';
  $('f-from').value = r.from ?? '';
  $('f-to').value = r.to ?? '';
}

export function renderHeads(r, setRoute) {
  for (const [list, cols] of Object.entries(COLUMNS)) {
    $(`${list}-head`).replaceChildren(h('tr', {}, cols.map(([key, name]) => {
      if (!key) return h('th', {}, name);
      const on = r.sort === key;
      const th = h('th', { class: `sortable${on ? ` sorted ${r.dir ?? 'asc'}` : ''}`, 'data-sort': key, 'aria-sort': on ? (r.dir === 'desc' ? 'descending' : 'ascending') : 'none' }, name, on ? (r.dir === 'desc' ? ' ▼' : ' ▲') : '');
      th.addEventListener('click', () => setRoute({ sort: key, dir: on && r.dir !== 'desc' ? 'desc' : 'asc' }));
      return th;
    })));
  }
}

function prCell(t) {
  return t.pr ? h('a', { href: t.pr.url, target: '_blank', rel: 'noopener' }, `#${t.pr.number}`) : '';
}

// Rows drawn per list, more on demand: a table of 1,000 rows costs the browser seconds of layout
// (and again on every update), a page of them a few milliseconds.
export const PAGE = 100;
const shownRows = { inflight: PAGE, completed: PAGE };

/** The first rows of a list (those shown so far), the selected task always among them; a "more" row when some are left. */
function page(list, tasks, r, width, rerender) {
  const at = r.task ? tasks.findIndex((t) => t.id === r.task) : -1;
  const limit = Math.max(shownRows[list], at + 1);
  if (tasks.length <= limit) return { tasks, more: [] };
  const left = tasks.length - limit;
  const b = h('button', { class: 'small', 'data-testid': `more-${list}` }, `show ${Math.min(PAGE, left)} more (${left} not shown)`);
  b.addEventListener('click', () => ((shownRows[list] = limit + PAGE), rerender()));
  return { tasks: tasks.slice(0, limit), more: [h('tr', { class: 'more' }, h('td', { colspan: width }, b))] };
}

/** `<repo>/<id>` when the engine serves several repositories (multi-repo ids carry the prefix already). */
export function taskLabel(t, multi) {
  return multi && t.repo && !t.id.startsWith(`${t.repo}/`) ? `${t.repo}/${t.id}` : t.id;
}

export function renderTasks(snapshot, r, { select, retry }) {
  const all = snapshot?.tasks ?? [];
  const multi = (snapshot?.repos?.length ?? 0) > 1 || new Set(all.map((t) => t.repo)).size > 1;
  const tasks = filterTasks(all, r);
  const retryButton = (t) => {
    const b = h('button', { class: 'small', 'data-testid': `retry-${t.id}` }, 'retry');
    b.addEventListener('click', (ev) => (ev.stopPropagation(), retry(t)));
    return b;
  };
  const row = (t, cells) => {
    const tr = h('tr', { class: `task${r.task === t.id ? ' selected' : ''}`, 'data-task': t.id, 'data-status': t.status }, cells.map((c) => (c instanceof Node && c.tagName === 'TD' ? c : h('td', {}, c))));
    tr.addEventListener('click', () => select(t.id));
    return tr;
  };
  const defaultOrder = (a, b) => (a.phase === 'queued') - (b.phase === 'queued');
  const inflight = sortTasks(tasks.filter((t) => t.phase !== 'completed').sort(defaultOrder), r.sort, r.dir);
  const done = sortTasks(tasks.filter((t) => t.phase === 'completed').sort((a, b) => b.updatedAt - a.updatedAt), r.sort, r.dir);
  const rerender = () => renderTasks(snapshot, r, { select, retry });
  const inflightPage = page('inflight', inflight, r, COLUMNS.inflight.length, rerender);
  const donePage = page('completed', done, r, COLUMNS.completed.length, rerender);
  $('inflight-rows').replaceChildren(...inflightPage.tasks.map((t) => row(t, [
    h('td', { class: 'id', 'data-repo': t.repo ?? '' }, taskLabel(t, multi)), h('td', { class: 'title' }, t.title), h('span', { class: `state ${t.status}`, 'data-testid': `state-${t.id}` }, t.status), t.host ?? '',
    h('span', { class: 'since', 'data-since': t.lastProgressAt }, elapsed(Date.now() - t.lastProgressAt)), money(t.costUsd), prCell(t), canRetry(t) ? retryButton(t) : '',
  ])), ...inflightPage.more);
  $('completed-rows').replaceChildren(...donePage.tasks.map((t) => row(t, [
    h('td', { class: 'id', 'data-repo': t.repo ?? '' }, taskLabel(t, multi)), h('td', { class: 'title' }, t.title), h('span', { class: `state ${t.status}`, 'data-testid': `state-${t.id}` }, t.status),
    h('td', { class: 'reason', title: t.triage ? `${t.reason ?? ''}\n\ntriage: ${t.triage}` : t.reason ?? '' }, t.status === 'abandoned' ? t.reason ?? '' : ''), String(t.attempts), money(t.costUsd), prCell(t), canRetry(t) ? retryButton(t) : '',
  ])), ...donePage.more);
  const hidden = all.length - tasks.length;
  $('inflight-empty').hidden = inflight.length > 0;
  $('completed-empty').hidden = done.length > 0;
  $('filter-count').textContent = hidden ? `${tasks.length} of ${all.length} tasks shown` : '';
  $('count-inflight').textContent = String(inflight.filter((t) => t.phase === 'in_flight').length);
  $('count-completed').textContent = String(done.length);
}
