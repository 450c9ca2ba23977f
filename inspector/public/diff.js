// The diff tab: the files of the task's change (base..head), each with its scope verdict, and its
// unified patch with syntax-aware colouring (a line tokenizer per language family: keywords,
// strings, comments, numbers), each file folded or open.
import { h } from './util.js';

const JS = 'break case catch class const continue default delete do else export extends finally for from function if import in instanceof let new of return static super switch this throw try typeof var void while with yield async await true false null undefined interface type enum implements private public readonly as';
const LANGS = {
  js: { kw: JS, line: '//' },
  py: { kw: 'and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield self', line: '#' },
  sh: { kw: 'if then else elif fi for while do done case esac function in return export local set echo exit', line: '#' },
  go: { kw: 'break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var nil true false', line: '//' },
  rs: { kw: 'as async await break const continue crate else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while', line: '//' },
  c: { kw: 'auto break case char const continue default do double else enum extern float for goto if int long register return short signed sizeof static struct switch typedef union unsigned void volatile while class public private protected new delete true false null', line: '//' },
  rb: { kw: 'alias and begin break case class def defined do else elsif end ensure false for if in module next nil not or redo rescue retry return self super then true undef unless until when while yield', line: '#' },
  json: { kw: 'true false null', line: null },
  yml: { kw: 'true false null yes no on off', line: '#' },
  css: { kw: 'important media import', line: null },
};
const EXT = { js: 'js', mjs: 'js', cjs: 'js', jsx: 'js', ts: 'js', tsx: 'js', mts: 'js', cts: 'js', py: 'py', sh: 'sh', bash: 'sh', zsh: 'sh', go: 'go', rs: 'rs', c: 'c', h: 'c', cc: 'c', cpp: 'c', hpp: 'c', java: 'c', kt: 'c', cs: 'c', swift: 'c', rb: 'rb', json: 'json', yml: 'yml', yaml: 'yml', toml: 'yml', css: 'css', scss: 'css' };
const compiled = new Map();

export function languageOf(path) {
  const ext = path.split('.').pop().toLowerCase();
  return EXT[ext] ?? (/(^|\/)(makefile|dockerfile|\.env)/i.test(path) ? 'sh' : null);
}

function tokenizer(lang) {
  if (!compiled.has(lang)) {
    const { kw, line } = LANGS[lang];
    const comment = line ? `${line.replace(/[/]/g, '\\/')}.*$` : '(?!)';
    const re = new RegExp(`(${comment})|("(?:[^"\\\\]|\\\\.)*"?|'(?:[^'\\\\]|\\\\.)*'?|\`(?:[^\`\\\\]|\\\\.)*\`?)|\\b(\\d[\\d_.xXa-fA-F]*)\\b|\\b(${kw.split(' ').join('|')})\\b`, 'g');
    compiled.set(lang, re);
  }
  return compiled.get(lang);
}

/** One line of code as spans: comments, strings, numbers, keywords. */
export function highlight(code, lang) {
  if (!lang) return [document.createTextNode(code)];
  const re = tokenizer(lang);
  const out = [];
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    if (m[0] === '') (re.lastIndex += 1);
    if (m.index > last) out.push(document.createTextNode(code.slice(last, m.index)));
    const cls = m[1] ? 'tok-c' : m[2] ? 'tok-s' : m[3] ? 'tok-n' : 'tok-k';
    if (m[0]) out.push(h('span', { class: cls }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < code.length) out.push(document.createTextNode(code.slice(last)));
  return out;
}

function patchView(file) {
  const lang = languageOf(file.path);
  const lines = file.patch.split('\n');
  const start = lines.findIndex((l) => l.startsWith('@@'));
  const rows = [];
  let oldNo = 0, newNo = 0;
  for (const l of start < 0 ? [] : lines.slice(start)) {
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)/.exec(l);
    if (hunk) {
      (oldNo = Number(hunk[1])), (newNo = Number(hunk[2]));
      rows.push(h('tr', { class: 'hunk' }, h('td', { class: 'ln' }), h('td', { class: 'ln' }), h('td', { class: 'code' }, l)));
      continue;
    }
    if (l === '' || l.startsWith('\\')) continue;
    const kind = l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : 'ctx';
    const a = kind === 'add' ? '' : oldNo++, b = kind === 'del' ? '' : newNo++;
    rows.push(h('tr', { class: kind }, h('td', { class: 'ln' }, String(a)), h('td', { class: 'ln' }, String(b)), h('td', { class: 'code' }, h('span', { class: 'sign' }, l[0]), ...highlight(l.slice(1), lang))));
  }
  if (!rows.length) return h('p', { class: 'muted' }, file.status === 'binary' ? 'Binary file.' : 'No textual change (mode or empty file).');
  return h('div', { class: 'patch-wrap' }, h('table', { class: 'patch', 'data-lang': lang ?? 'text' }, h('tbody', {}, rows)), file.truncated ? h('p', { class: 'muted' }, 'Cut: the patch is larger than the page shows.') : null);
}

/** The whole tab for a /api/v1/tasks/:id/diff answer. */
export function renderDiff(container, diff) {
  const head = h('p', { class: 'muted' }, diff.head ? `base ${diff.base?.slice(0, 12) ?? '?'} … head ${diff.head.slice(0, 12)} (from the ${diff.source === 'context' ? "task's recorded shas" : diff.source === 'pr' ? 'PR row' : 'task ref in the main clone'})` : '', diff.note ? ` ${diff.note}` : '');
  const total = diff.files.reduce((s, f) => [s[0] + f.additions, s[1] + f.deletions], [0, 0]);
  const list = h('table', { class: 'files', 'data-testid': 'diff-files' }, h('thead', {}, h('tr', {}, h('th', {}, 'file'), h('th', {}, 'change'), h('th', {}, '+'), h('th', {}, '−'), h('th', {}, 'scope'))),
    h('tbody', {}, diff.files.map((f) => h('tr', { 'data-file': f.path }, h('td', { class: 'path' }, h('a', { href: `#diff-${encodeURIComponent(f.path)}`, 'data-jump': f.path }, f.path)), h('td', {}, f.status), h('td', { class: 'add' }, `+${f.additions}`), h('td', { class: 'del' }, `−${f.deletions}`), h('td', {}, h('span', { class: `scope ${f.scope.verdict}`, title: f.scope.why, 'data-testid': `scope-${f.path}` }, f.scope.verdict))))));
  const files = diff.files.map((f) => h('details', { class: 'file', open: diff.files.length <= 12 ? '' : undefined, 'data-path': f.path },
    h('summary', {}, h('code', {}, f.path), ' ', h('span', { class: 'add' }, `+${f.additions}`), ' ', h('span', { class: 'del' }, `−${f.deletions}`), ' ', h('span', { class: `scope ${f.scope.verdict}`, title: f.scope.why }, f.scope.verdict)),
    patchView(f)));
  container.replaceChildren(head, diff.files.length ? h('p', {}, `${diff.files.length} files, +${total[0]} −${total[1]}`) : '', diff.files.length ? list : '', ...files);
  for (const a of container.querySelectorAll('[data-jump]')) {
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      const d = [...container.querySelectorAll('details.file')].find((x) => x.dataset.path === a.dataset.jump);
      if (d) (d.open = true), d.scrollIntoView({ block: 'start' });
    });
  }
}
