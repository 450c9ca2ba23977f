// Small helpers shared by the page's modules.
export const $ = (id) => document.getElementById(id);

export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) e.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

export const money = (n) => `$${Number(n).toFixed(n >= 10 ? 2 : 4).replace(/0+$/, '').replace(/\.$/, '.00')}`;
// One formatter each, made once: toLocale*String builds a new one per call, which cost seconds per
// redraw of a 500-row ledger on a busy machine. Same fields as toLocaleTimeString/toLocaleString's defaults.
const CLOCK = new Intl.DateTimeFormat([], { hour: 'numeric', minute: '2-digit', second: '2-digit', hour12: false });
const STAMP = new Intl.DateTimeFormat([], { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit', hour12: false });
export const clock = (ms) => CLOCK.format(ms);
export const stamp = (ms) => STAMP.format(ms);

export function elapsed(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `{live: {available: 'ready'}}` → `live.available.ready` */
export function valueName(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return Object.entries(v).map(([k, inner]) => (typeof inner === 'string' ? `${k}.${inner}` : `${k}.${valueName(inner)}`)).join(', ');
}

export const token = () => sessionStorage.getItem('oxi.token');

export async function getJson(url) {
  const headers = token() ? { authorization: `Bearer ${token()}` } : {};
  const res = await fetch(url, { headers });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `${url}: ${res.status}`);
  return body;
}

export function notice(text, ok = false) {
  const n = $('notice');
  n.textContent = text;
  n.className = ok ? 'notice ok' : 'notice';
  n.hidden = !text;
}

/** Long JSON folded: a one-line preview that opens onto the whole value, wrapped. */
export function foldedJson(value, openBelow = 120) {
  const text = JSON.stringify(value, null, 2) ?? '';
  const line = JSON.stringify(value) ?? '';
  if (line.length <= openBelow) return h('code', { class: 'json' }, line);
  return h('details', { class: 'json' }, h('summary', {}, `${line.slice(0, openBelow)}…`), h('pre', { class: 'wrap' }, text));
}
