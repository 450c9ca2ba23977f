// The transcript tab: the planner, worker and critic sessions of a task rendered from their
// recorded streams — messages, tool calls with input and result folded, permission denials,
// errors — read on by byte offset every second, so a running agent's transcript grows live.
import { foldedJson, getJson, h, money } from './util.js';

const POLL_MS = 1000;
let current = null;

function toolInputLine(name, input) {
  const main = input?.command ?? input?.file_path ?? input?.path ?? input?.pattern ?? input?.url;
  return main === undefined ? name : `${name} ${String(main).slice(0, 200)}`;
}

function itemNode(item, tools) {
  switch (item.kind) {
    case 'session':
      return h('li', { class: 'session' }, `▶ ${item.text}`);
    case 'user':
      return h('li', { class: 'user' }, h('details', {}, h('summary', {}, `prompt · ${item.text.slice(0, 120)}`), h('pre', { class: 'wrap' }, item.text)));
    case 'text':
      return h('li', { class: 'text' }, h('pre', { class: 'wrap' }, item.text));
    case 'thinking':
      return h('li', { class: 'thinking muted' }, item.text ? h('details', {}, h('summary', {}, 'thinking'), h('pre', { class: 'wrap' }, item.text)) : '… thinking');
    case 'tool': {
      const result = h('div', { class: 'result pending' }, 'running…');
      const node = h('li', { class: 'tool', 'data-tool': item.id }, h('details', {}, h('summary', {}, h('span', { class: 'tname' }, 'tool'), toolInputLine(item.name, item.input)), h('div', { class: 'input' }, foldedJson(item.input, 0)), result));
      tools.set(item.id, { node, result });
      return node;
    }
    case 'tool_result': {
      const tool = tools.get(item.id);
      const body = [h('pre', { class: `wrap${item.isError ? ' error' : ''}` }, item.output)];
      if (tool) {
        tool.result.className = `result${item.isError ? ' error' : ''}`;
        tool.result.replaceChildren(...body);
        if (item.isError) tool.node.classList.add('failed');
        return null;
      }
      return h('li', { class: 'tool' }, h('details', {}, h('summary', {}, item.isError ? '✘ tool error' : '↳ tool result'), ...body));
    }
    case 'denial':
      return h('li', { class: 'denial', 'data-testid': 'denial' }, `permission denied: ${toolInputLine(item.name, item.input)}`);
    case 'error':
      return h('li', { class: 'error' }, `✘ ${item.text}`);
    case 'result':
      return h('li', { class: `result-line ${item.ok ? 'ok' : 'error'}` }, `${item.ok ? '✔ done' : '✘ failed'}${item.costUsd !== null ? ` · ${money(item.costUsd)}` : ''}${item.turns !== null ? ` · ${item.turns} turns` : ''}`, h('pre', { class: 'wrap' }, item.text));
    default:
      return null;
  }
}

async function poll(state) {
  if (state.stopped) return;
  try {
    const q = new URLSearchParams({ offset: String(state.offset) });
    if (state.file) q.set('file', state.file);
    const page = await getJson(`/api/v1/tasks/${encodeURIComponent(state.task)}/transcript?${q}`);
    if (state.stopped) return;
    renderFiles(state, page);
    if (!state.file && page.file) state.file = page.file;
    if (page.reset) (state.list.replaceChildren(), state.tools.clear());
    const list = state.list;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    for (const item of page.items) {
      const n = itemNode(item, state.tools);
      if (n) list.append(n);
    }
    state.offset = page.next;
    state.empty.hidden = list.children.length > 0;
    state.empty.textContent = page.note ?? (page.files.length ? 'Nothing in this stream yet.' : 'No agent has run for this task yet.');
    if (atBottom && page.items.length) list.scrollTop = list.scrollHeight;
  } catch (error) {
    state.empty.hidden = false;
    state.empty.textContent = `transcript: ${error.message}`;
  }
  state.timer = setTimeout(() => poll(state), POLL_MS);
}

function renderFiles(state, page) {
  const key = page.files.map((f) => `${f.name}:${f.bytes}`).join(',');
  if (key === state.filesKey) return;
  state.filesKey = key;
  const chosen = state.file ?? page.file;
  state.bar.replaceChildren(...page.files.map((f) => {
    const b = h('button', { class: `small${f.name === chosen ? ' on' : ''}`, 'data-file': f.name, title: `${f.bytes} bytes` }, f.name.replace(/\.ndjson$/, ''));
    b.addEventListener('click', () => start(state.container, state.task, f.name));
    return b;
  }));
}

/** Shows (and follows) the task's transcript in `container`; `file` picks a stream (default the newest). */
export function start(container, task, file = null) {
  stop();
  const bar = h('div', { class: 'streams', 'data-testid': 'transcript-streams' });
  const empty = h('p', { class: 'muted' }, 'loading…');
  const list = h('ol', { class: 'transcript', 'data-testid': 'transcript' });
  container.replaceChildren(bar, empty, list);
  current = { container, task, file, offset: 0, bar, empty, list, tools: new Map(), filesKey: '', stopped: false, timer: null };
  poll(current);
}

export function stop() {
  if (!current) return;
  current.stopped = true;
  clearTimeout(current.timer);
  current = null;
}
