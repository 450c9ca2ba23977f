// Draws a statechart (the graph from /api/v1/machines/:name) with ELK's layered layout (elkjs,
// served by the dashboard from its package, laying out in a web worker): compound states and the task's phases as nested
// groups, orthogonal edge routes, edge labels placed by ELK so none collide. Zoom with the
// wheel or the buttons, pan by dragging; the layout is computed once per machine.
/* global ELK */
const SVG = 'http://www.w3.org/2000/svg';
const FONT = { node: '12px system-ui, sans-serif', sub: '10px system-ui, sans-serif', group: '11px system-ui, sans-serif', edge: '10px system-ui, sans-serif' };
const layouts = new Map();
const views = new Map();
let measureCtx;
let elk;

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}
function textWidth(text, font) {
  measureCtx ??= document.createElement('canvas').getContext('2d');
  measureCtx.font = font;
  return Math.ceil(measureCtx.measureText(text).width) + 6;
}
const within = (id, ancestor) => id === ancestor || id.startsWith(ancestor + '.');
const label = (text, font, h) => ({ text, width: textWidth(text, font), height: h });

function elkNode(n) {
  if (!n.children.length) {
    const sub = n.invoke.length ? `⟳ ${n.invoke.join(', ')}` : '';
    const w = Math.max(72, textWidth(n.key, FONT.node) + 16, sub ? textWidth(sub, FONT.sub) + 12 : 0);
    return { id: n.id, width: n.type === 'history' ? 30 : w, height: n.type === 'history' ? 30 : sub ? 42 : 30, src: n, sub };
  }
  let children = n.children.map(elkNode);
  // The task machine's states carry their phase: one group per phase, in the order they come.
  if (n.children.filter((c) => c.phase).length >= 6) {
    const groups = new Map();
    for (const c of children) {
      const p = c.src.phase ?? `other:${c.id}`;
      if (!groups.has(p)) groups.set(p, []);
      groups.get(p).push(c);
    }
    children = [...groups].map(([p, cs]) => (p.startsWith('other:') ? cs[0] : { id: `${n.id}::${p}`, phase: p, labels: [label(`phase: ${p}`, FONT.group, 14)], children: cs, layoutOptions: { 'elk.padding': '[top=26,left=10,bottom=10,right=10]', 'elk.nodeLabels.placement': 'INSIDE V_TOP H_LEFT' } }));
  }
  return { id: n.id, src: n, labels: [label(n.key, FONT.group, 14)], children, layoutOptions: { 'elk.padding': '[top=30,left=12,bottom=12,right=12]', 'elk.nodeLabels.placement': 'INSIDE V_TOP H_LEFT' } };
}

function elkEdges(graph) {
  const grouped = new Map();
  for (const e of graph.edges) {
    if (e.source === e.target) continue;
    const k = `${e.source}>${e.target}`;
    if (!grouped.has(k)) grouped.set(k, { source: e.source, target: e.target, events: [] });
    grouped.get(k).events.push(e.event + (e.guards.length ? ` [${e.guards.join(', ')}]` : ''));
  }
  return [...grouped.values()].map((e, i) => {
    // done:/error:/always edges are the effect plumbing: drawn, named in their tooltip, not labelled.
    const plain = [...new Set(e.events.filter((x) => !/^(done|error): |^always/.test(x)).map((x) => x.split(' [')[0]))];
    const text = plain.join(', ');
    return { id: `edge${i}`, sources: [e.source], targets: [e.target], events: e.events, always: e.events.every((x) => x.startsWith('always')), labels: text ? [label(text, FONT.edge, 13)] : [] };
  });
}

/** The laid-out graph of a machine (computed once; ELK runs a second or two for the task machine). */
function layoutOf(graph) {
  if (!layouts.has(graph.machine)) {
    const root = { id: '__root', children: [elkNode(graph.root)], edges: elkEdges(graph), layoutOptions: {
      'elk.algorithm': 'layered', 'elk.direction': 'DOWN', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN', 'elk.edgeRouting': 'ORTHOGONAL',
      'elk.json.edgeCoords': 'ROOT', 'elk.json.shapeCoords': 'ROOT', 'elk.layered.spacing.nodeNodeBetweenLayers': '30', 'elk.spacing.nodeNode': '24',
      'elk.spacing.edgeLabel': '3', 'elk.edgeLabels.placement': 'CENTER', 'elk.padding': '[top=10,left=10,bottom=10,right=10]',
    } };
    elk ??= new ELK({ workerUrl: '/vendor/elk-worker.js' });
    layouts.set(graph.machine, elk.layout(root));
  }
  return layouts.get(graph.machine);
}

/** The ids of the state nodes a state value makes active (`{live:'working'}` → task, task.live, task.live.working). */
export function activeIds(graph, value) {
  const out = new Set();
  const walk = (prefix, v) => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') return void out.add(`${prefix}.${v}`);
    for (const [k, inner] of Object.entries(v)) (out.add(`${prefix}.${k}`), walk(`${prefix}.${k}`, inner));
  };
  if (value !== undefined && value !== null) (out.add(graph.root.id), walk(graph.root.id, value));
  return out;
}

/** The node whose key is a ledger status name (`working`), with its ancestors: what a journal row points at. */
export function idsForStatus(graph, status) {
  const find = (n) => (n.key === status && n !== graph.root ? n : n.children.map(find).find(Boolean));
  const hit = find(graph.root);
  const out = new Set();
  if (!hit) return out;
  const parts = hit.id.split('.');
  for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('.'));
  return out;
}

function drawNode(n, active, g) {
  const src = n.src;
  if (!src) {
    // A phase group.
    const pg = el('g', { class: 'group', 'data-phase': n.phase }, g);
    el('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: 8 }, pg);
    for (const l of n.labels ?? []) el('text', { x: l.x, y: l.y + 11, class: 'ptitle' }, pg).textContent = l.text;
    for (const c of n.children ?? []) drawNode(c, active, g);
    return;
  }
  const compound = Boolean(n.children?.length);
  const cls = ['node', src.type, compound ? 'compound' : 'leaf', active.has(src.id) ? 'active' : ''].join(' ');
  const ng = el('g', { class: cls, 'data-state': src.id, 'data-key': src.key, 'data-active': active.has(src.id) ? 'true' : 'false' }, g);
  el('title', {}, ng).textContent = src.id + (src.invoke.length ? `\ninvokes: ${src.invoke.join(', ')}` : '');
  if (src.type === 'history') {
    el('circle', { cx: n.x + 15, cy: n.y + 15, r: 13 }, ng);
    el('text', { x: n.x + 15, y: n.y + 19, 'text-anchor': 'middle' }, ng).textContent = 'H*';
    return;
  }
  el('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: compound ? 10 : 8 }, ng);
  if (compound) {
    for (const l of n.labels ?? []) el('text', { x: l.x, y: l.y + 11, class: 'ctitle' }, ng).textContent = l.text;
    for (const c of n.children) drawNode(c, active, g);
  } else {
    el('text', { x: n.x + n.width / 2, y: n.y + (n.sub ? 17 : 19), 'text-anchor': 'middle' }, ng).textContent = src.key;
    if (n.sub) el('text', { x: n.x + n.width / 2, y: n.y + 33, 'text-anchor': 'middle', class: 'sub' }, ng).textContent = n.sub;
  }
}

function byId(laid) {
  const out = new Map();
  const walk = (n) => (n.src && out.set(n.src.id, n), (n.children ?? []).forEach(walk));
  walk(laid);
  return out;
}

/** The first view: the whole chart when it reads at that size, else 1:1 around the active state. */
function firstView(full, focus, container) {
  const width = container.clientWidth || 600, height = Math.max(320, Math.round(window.innerHeight * 0.64));
  if (width / full.w >= 0.7) return { ...full };
  const w = Math.min(full.w, width), h = Math.min(full.h, height);
  const cx = focus ? focus.x + focus.width / 2 : w / 2, cy = focus ? focus.y + focus.height / 2 : h / 2;
  return { x: Math.max(0, Math.min(full.w - w, cx - w / 2)), y: Math.max(0, Math.min(full.h - h, cy - h / 2)), w, h };
}

function zoomable(container, svg, key, full, focus) {
  // A view the user zoomed or panned is kept across redraws; until then it follows the active state.
  const view = views.get(key) ?? firstView(full, focus, container);
  const touch = () => views.set(key, view);
  const apply = () => svg.setAttribute('viewBox', `${view.x} ${view.y} ${view.w} ${view.h}`);
  apply();
  const zoom = (f, cx = view.x + view.w / 2, cy = view.y + view.h / 2) => {
    const w = Math.min(full.w * 4, Math.max(60, view.w * f)), k = w / view.w;
    Object.assign(view, { x: cx - (cx - view.x) * k, y: cy - (cy - view.y) * k, w, h: view.h * k });
    apply();
  };
  svg.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    touch();
    const r = svg.getBoundingClientRect();
    zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, view.x + ((ev.clientX - r.left) / r.width) * view.w, view.y + ((ev.clientY - r.top) / r.height) * view.h);
  }, { passive: false });
  let drag = null;
  svg.addEventListener('pointerdown', (ev) => (touch(), (drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y }), svg.setPointerCapture(ev.pointerId)));
  svg.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const r = svg.getBoundingClientRect(), s = view.w / r.width;
    Object.assign(view, { x: drag.vx - (ev.clientX - drag.x) * s, y: drag.vy - (ev.clientY - drag.y) * s });
    apply();
  });
  svg.addEventListener('pointerup', () => (drag = null));
  const button = (text, title, fn, testid) => {
    const b = document.createElement('button');
    Object.assign(b, { textContent: text, title, className: 'small' });
    b.dataset.testid = testid;
    b.addEventListener('click', fn);
    return b;
  };
  const bar = document.createElement('div');
  bar.className = 'chart-tools';
  bar.append(button('+', 'zoom in', () => (touch(), zoom(1 / 1.25)), 'zoom-in'), button('−', 'zoom out', () => (touch(), zoom(1.25)), 'zoom-out'), button('fit', 'show all', () => (touch(), Object.assign(view, full), apply()), 'zoom-fit'));
  container.replaceChildren(bar, svg);
}

/** While ELK works (seconds on a busy machine), the states in rows, the current one highlighted. */
function drawInterim(container, graph, active) {
  const svg = el('svg', { role: 'img', 'aria-label': `states of ${graph.machine} (laying out…)`, 'data-machine': graph.machine, 'data-interim': 'true' });
  const leaves = [];
  const walk = (n) => (n.children.length ? n.children.forEach(walk) : n.type !== 'history' && leaves.push(n));
  walk(graph.root);
  let x = 10, y = 10;
  for (const n of leaves) {
    const w = textWidth(n.key, FONT.node) + 16;
    if (x + w > 700) (x = 10), (y += 40);
    const ng = el('g', { class: `node atomic leaf${active.has(n.id) ? ' active' : ''}`, 'data-state': n.id, 'data-key': n.key, 'data-active': active.has(n.id) ? 'true' : 'false' }, svg);
    el('rect', { x, y, width: w, height: 30, rx: 8 }, ng);
    el('text', { x: x + w / 2, y: y + 19, 'text-anchor': 'middle' }, ng).textContent = n.key;
    x += w + 10;
  }
  svg.setAttribute('viewBox', `0 0 720 ${y + 50}`);
  container.replaceChildren(Object.assign(document.createElement('p'), { className: 'muted', textContent: 'laying out the statechart…' }), svg);
}

/** Draws `graph` into `container`; `active` is a set of node ids; `hot` an edge {from, to} in status names. */
export async function drawChart(container, graph, active, hot) {
  const pending = layoutOf(graph);
  const done = await Promise.race([pending, new Promise((r) => setTimeout(() => r(null), 50))]);
  if (!done) drawInterim(container, graph, active);
  const laid = await pending;
  const nodes = byId(laid);
  const svg = el('svg', { role: 'img', 'aria-label': `statechart of ${graph.machine}`, 'data-machine': graph.machine });
  const defs = el('defs', {}, svg);
  for (const id of ['arrow', 'arrow-hot']) el('path', { d: 'M0,0 L10,5 L0,10 z' }, el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, defs));
  const g = el('g', {}, svg);
  for (const c of laid.children) drawNode(c, active, g);
  const edges = el('g', {}, svg);
  for (const e of laid.edges) {
    const a = nodes.get(e.sources[0]), b = nodes.get(e.targets[0]);
    const isHot = Boolean(hot && a && b && a.src.key === hot.from && b.src.key === hot.to && !within(b.src.id, a.src.id));
    const eg = el('g', { class: ['edge', isHot ? 'hot' : '', e.always ? 'always' : ''].join(' '), 'data-from': e.sources[0], 'data-to': e.targets[0] }, edges);
    el('title', {}, eg).textContent = `${e.sources[0]} → ${e.targets[0]}\n${e.events.join('\n')}`;
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint];
      el('path', { d: pts.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' '), 'marker-end': `url(#${isHot ? 'arrow-hot' : 'arrow'})` }, eg);
    }
    for (const l of e.labels ?? []) el('text', { x: l.x + 3, y: l.y + 10, class: 'elabel' }, eg).textContent = l.text;
  }
  const focus = [...nodes.values()].find((n) => !n.children?.length && active.has(n.src.id));
  zoomable(container, svg, graph.machine, { x: 0, y: 0, w: laid.width, h: laid.height }, focus);
}
