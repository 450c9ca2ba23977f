// Timelines: each task's states on a time axis, coloured by phase (queued, planning, working,
// checks, review, merge), with durations; a new round (an attempt, a retry, a fix after a
// rejection) is marked, and the rejections that started a fix loop stand out.
import { clock, elapsed, h, stamp } from './util.js';

const PHASES = ['queued', 'planning', 'working', 'checks', 'review', 'merge', 'done'];

function track(t, from, to, now) {
  const span = Math.max(1, to - from);
  const bar = h('div', { class: 'track' });
  let round = 0;
  for (const s of t.segments) {
    const end = s.to ?? now;
    if (end < from) continue;
    const a = Math.max(s.from, from);
    const seg = h('div', { class: `seg phase-${s.phase}${s.state === 'rejected' ? ' fix' : ''}${s.round !== round && s.round > 0 ? ' round' : ''}${s.to === null ? ' open' : ''}`, 'data-state': s.state, 'data-round': s.round, title: `${s.state} (${s.phase}) · ${stamp(s.from)} · ${elapsed(end - s.from)}${s.round ? ` · round ${s.round}` : ''}` });
    round = s.round;
    // Through the CSSOM: the page's CSP forbids style attributes.
    seg.style.left = `${((a - from) / span) * 100}%`;
    seg.style.width = `${Math.max(0.15, ((end - a) / span) * 100)}%`;
    if ((end - a) / span > 0.08) seg.textContent = s.state;
    bar.append(seg);
  }
  return bar;
}

function axis(from, to) {
  const ticks = h('div', { class: 'axis' });
  for (let i = 0; i <= 4; i++) {
    const at = from + ((to - from) * i) / 4;
    const t = h('span', {}, clock(at));
    t.style.left = `${i * 25}%`;
    ticks.append(t);
  }
  return ticks;
}

const legend = () => h('div', { class: 'legend' }, PHASES.map((p) => h('span', { class: `seg-key phase-${p}` }, p)), h('span', { class: 'seg-key fix' }, 'rejected → fix'));

/** All tasks of the window (/api/v1/timeline), newest activity first; a row click selects the task. */
export function renderAllTimelines(container, data, onSelect) {
  const now = data.now;
  // The axis starts where the window's activity starts: a 20-minute run is not a sliver of 24 h.
  const first = Math.min(now - 60_000, ...data.tasks.flatMap((t) => t.segments.filter((s) => (s.to ?? now) >= data.since).map((s) => Math.max(s.from, data.since))));
  const tasks = [...data.tasks].sort((a, b) => (b.segments.at(-1)?.from ?? 0) - (a.segments.at(-1)?.from ?? 0));
  const rows = tasks.map((t) => {
    const row = h('div', { class: 'tl-row', 'data-task': t.task }, h('div', { class: 'tl-label', title: t.title }, h('span', { class: 'id' }, t.task), ' ', h('span', { class: 'muted' }, `${t.rounds} round${t.rounds === 1 ? '' : 's'}${t.fixes ? ` · ${t.fixes} fix${t.fixes === 1 ? '' : 'es'}` : ''}`)), track(t, first, now, now));
    row.addEventListener('click', () => onSelect(t.task));
    return row;
  });
  container.replaceChildren(legend(), h('div', { class: 'tl-row head' }, h('div', { class: 'tl-label muted' }, `moved in the last ${Math.round((now - data.since) / 3600000)} h`), axis(first, now)), ...(rows.length ? rows : [h('p', { class: 'empty' }, 'No task moved in this window.')]));
}

/** One task: its bar over its own lifetime, then every state with its duration. */
export function renderTaskTimeline(container, t) {
  const now = Date.now();
  const from = t.segments[0]?.from ?? now;
  const to = Math.max(from + 1000, t.segments.at(-1)?.to ?? now);
  const table = h('table', { class: 'segments', 'data-testid': 'timeline-segments' }, h('thead', {}, h('tr', {}, h('th', {}, 'state'), h('th', {}, 'phase'), h('th', {}, 'round'), h('th', {}, 'from'), h('th', {}, 'for'), h('th', {}, 'after'))),
    h('tbody', {}, t.segments.map((s) => h('tr', { class: s.state === 'rejected' ? 'fix' : '', 'data-state': s.state }, h('td', {}, h('span', { class: `state ${s.state}` }, s.state)), h('td', {}, s.phase), h('td', {}, String(s.round)), h('td', {}, stamp(s.from)), h('td', {}, s.to === null ? `${elapsed(now - s.from)} (now)` : elapsed(s.to - s.from)), h('td', { class: 'muted' }, s.event ?? '')))));
  container.replaceChildren(legend(), h('p', {}, `${t.rounds} round${t.rounds === 1 ? '' : 's'} · ${t.fixes} fix loop${t.fixes === 1 ? '' : 's'} · ${t.status}`), h('div', { class: 'tl-row' }, h('div', { class: 'tl-label' }, t.task), track(t, from, to, now)), h('div', { class: 'tl-row head' }, h('div', { class: 'tl-label' }), axis(from, to)), table);
}
