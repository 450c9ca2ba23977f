// Draws a statechart (the graph from /api/v1/machines/:name) as SVG: nested boxes, children of
// each compound state laid out in rows by their distance from its initial state.
const SVG = 'http://www.w3.org/2000/svg';
const PAD = 12, HEAD = 20, GAP_X = 16, GAP_Y = 34, COL_GAP = 14, LEAF_H = 36, CHAR_W = 7, MAX_LINE = 640;

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

const within = (id, ancestor) => id === ancestor || id.startsWith(ancestor + '.');

/** Rank each child by BFS from the initial child, over edges projected onto the siblings. */
function rankChildren(node, edges) {
  const kids = node.children;
  const owner = (id) => kids.find((c) => within(id, c.id));
  const next = new Map(kids.map((c) => [c.id, new Set()]));
  for (const e of edges) {
    const a = owner(e.source), b = owner(e.target);
    if (a && b && a !== b) next.get(a.id).add(b.id);
  }
  const rank = new Map();
  const start = node.initial ? owner(node.initial) : kids[0];
  if (start) {
    rank.set(start.id, 0);
    const queue = [start.id];
    while (queue.length) {
      const id = queue.shift();
      for (const n of next.get(id)) if (!rank.has(n)) (rank.set(n, rank.get(id) + 1), queue.push(n));
    }
  }
  const max = Math.max(0, ...rank.values());
  for (const c of kids) if (!rank.has(c.id)) rank.set(c.id, max + 1);
  return rank;
}

function measure(node, edges) {
  if (!node.children.length) {
    const label = Math.max(node.key.length, ...node.invoke.map((s) => s.length + 2));
    node.w = Math.max(84, label * CHAR_W + 20);
    node.h = node.type === 'history' ? 30 : node.invoke.length ? LEAF_H + 8 : LEAF_H;
    if (node.type === 'history') node.w = 30;
    return;
  }
  for (const c of node.children) measure(c, edges);
  const rank = rankChildren(node, edges);
  const ranks = [];
  for (const c of node.children) (ranks[rank.get(c.id)] ??= []).push(c);
  const groups = ranks.filter(Boolean);
  if (node.children.every((c) => !c.children.length)) {
    // Leaves only: each rank is a column, columns flow left to right and wrap into lines,
    // so a long lifecycle reads like text instead of one tall tower.
    const cols = groups.map((g) => ({ nodes: g, w: Math.max(...g.map((c) => c.w)), h: g.reduce((s, c) => s + c.h, 0) + COL_GAP * (g.length - 1) }));
    node.lines = [];
    for (const col of cols) {
      const line = node.lines[node.lines.length - 1];
      if (line && line.w + GAP_X * 2 + col.w <= MAX_LINE) (line.cols.push(col), (line.w += GAP_X * 2 + col.w), (line.h = Math.max(line.h, col.h)));
      else node.lines.push({ cols: [col], w: col.w, h: col.h });
    }
    node.w = Math.max(...node.lines.map((l) => l.w), node.key.length * CHAR_W + 20) + PAD * 2;
    node.h = HEAD + PAD + node.lines.reduce((s, l) => s + l.h, 0) + GAP_Y * (node.lines.length - 1) + PAD;
    return;
  }
  node.rows = groups;
  const widths = node.rows.map((r) => r.reduce((s, c) => s + c.w, 0) + GAP_X * (r.length - 1));
  node.w = Math.max(...widths, node.key.length * CHAR_W + 20) + PAD * 2;
  node.h = HEAD + PAD + node.rows.reduce((s, r) => s + Math.max(...r.map((c) => c.h)), 0) + GAP_Y * (node.rows.length - 1) + PAD;
}

function place(node, x, y, boxes) {
  node.x = x; node.y = y;
  boxes.set(node.id, node);
  let cy = y + HEAD + PAD;
  if (node.lines) {
    for (const line of node.lines) {
      let cx = x + (node.w - line.w) / 2;
      for (const col of line.cols) {
        let ny = cy + (line.h - col.h) / 2;
        for (const c of col.nodes) (place(c, cx + (col.w - c.w) / 2, ny, boxes), (ny += c.h + COL_GAP));
        cx += col.w + GAP_X * 2;
      }
      cy += line.h + GAP_Y;
    }
    return;
  }
  if (!node.rows) return;
  for (const row of node.rows) {
    const width = row.reduce((s, c) => s + c.w, 0) + GAP_X * (row.length - 1);
    let cx = x + (node.w - width) / 2;
    const h = Math.max(...row.map((c) => c.h));
    for (const c of row) (place(c, cx, cy + (h - c.h) / 2, boxes), (cx += c.w + GAP_X));
    cy += h + GAP_Y;
  }
}

function drawNode(node, active, g) {
  const cls = ['node', node.type, node.children.length ? 'compound' : 'leaf', active.has(node.id) ? 'active' : ''].join(' ');
  const ng = el('g', { class: cls, 'data-state': node.id, 'data-key': node.key, 'data-active': active.has(node.id) ? 'true' : 'false' }, g);
  el('title', {}, ng).textContent = node.id + (node.invoke.length ? `\ninvokes: ${node.invoke.join(', ')}` : '');
  if (node.type === 'history') {
    el('circle', { cx: node.x + 15, cy: node.y + 15, r: 13 }, ng);
    el('text', { x: node.x + 15, y: node.y + 19, 'text-anchor': 'middle' }, ng).textContent = 'H*';
    return;
  }
  el('rect', { x: node.x, y: node.y, width: node.w, height: node.h, rx: node.children.length ? 10 : 8 }, ng);
  if (node.children.length) {
    el('text', { x: node.x + 10, y: node.y + 15, class: 'ctitle' }, ng).textContent = node.key;
    for (const c of node.children) drawNode(c, active, g);
  } else {
    el('text', { x: node.x + node.w / 2, y: node.y + (node.invoke.length ? 16 : 22), 'text-anchor': 'middle' }, ng).textContent = node.key;
    if (node.invoke.length) el('text', { x: node.x + node.w / 2, y: node.y + 32, 'text-anchor': 'middle', class: 'sub' }, ng).textContent = `⟳ ${node.invoke.join(', ')}`;
  }
}

function edgePath(a, b) {
  const acx = a.x + a.w / 2, bcx = b.x + b.w / 2;
  if (b.y >= a.y + a.h - 1) {
    const sy = a.y + a.h, ty = b.y, dy = Math.max(20, (ty - sy) / 2);
    return { d: `M${acx},${sy} C${acx},${sy + dy} ${bcx},${ty - dy} ${bcx},${ty}`, lx: (acx + bcx) / 2, ly: (sy + ty) / 2 };
  }
  if (a.y >= b.y + b.h - 1 || within(b.id, a.id) || within(a.id, b.id)) {
    // Upwards (a retry loop) or into a parent: around the right-hand side.
    const sx = a.x + a.w, sy = a.y + a.h / 2, tx = b.x + b.w, ty = b.y + Math.min(b.h / 2, 18);
    const bulge = 30 + Math.abs(sy - ty) * 0.15;
    return { d: `M${sx},${sy} C${sx + bulge},${sy} ${tx + bulge},${ty} ${tx},${ty}`, lx: Math.max(sx, tx) + bulge * 0.6, ly: (sy + ty) / 2 };
  }
  const left = bcx < acx;
  const sx = left ? a.x : a.x + a.w, tx = left ? b.x + b.w : b.x, sy = a.y + a.h / 2, ty = b.y + b.h / 2;
  return { d: `M${sx},${sy} C${(sx + tx) / 2},${sy - 24} ${(sx + tx) / 2},${ty - 24} ${tx},${ty}`, lx: (sx + tx) / 2, ly: Math.min(sy, ty) - 16 };
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

/** Draws `graph` into `container`; `active` is a set of node ids; `hot` an edge {from, to} in status names. */
export function drawChart(container, graph, active, hot) {
  const root = structuredClone(graph.root);
  measure(root, graph.edges);
  const boxes = new Map();
  place(root, 10, 10, boxes);
  const width = root.w + 90, height = root.h + 20;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `statechart of ${graph.machine}` });
  const defs = el('defs', {}, svg);
  for (const id of ['arrow', 'arrow-hot']) {
    const m = el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z' }, m);
  }
  const nodes = el('g', {}, svg);
  drawNode(root, active, nodes);
  const grouped = new Map();
  for (const e of graph.edges) {
    const k = `${e.source}>${e.target}`;
    const g = grouped.get(k) ?? { ...e, events: [] };
    g.events.push(e.event + (e.guards.length ? ` [${e.guards.join(', ')}]` : ''));
    grouped.set(k, g);
  }
  const edges = el('g', {}, svg);
  for (const e of grouped.values()) {
    const a = boxes.get(e.source), b = boxes.get(e.target);
    if (!a || !b || a === b) continue;
    const isHot = hot && a.key === hot.from && b.key === hot.to;
    const plain = e.events.filter((x) => !/^(done|error): |^always/.test(x));
    const cls = ['edge', isHot ? 'hot' : '', e.events.every((x) => x.startsWith('always')) ? 'always' : ''].join(' ');
    const g = el('g', { class: cls, 'data-from': e.source, 'data-to': e.target }, edges);
    el('title', {}, g).textContent = `${e.source} → ${e.target}\n${e.events.join('\n')}`;
    const p = edgePath(a, b);
    el('path', { d: p.d, 'marker-end': `url(#${isHot ? 'arrow-hot' : 'arrow'})` }, g);
    if ((plain.length && b.type !== 'final') || isHot) el('text', { x: p.lx + 3, y: p.ly, 'text-anchor': 'start' }, g).textContent = (plain.length ? plain : e.events).map((x) => x.split(' [')[0]).join(', ');
  }
  container.replaceChildren(svg);
}
