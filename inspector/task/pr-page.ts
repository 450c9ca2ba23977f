/**
 * The local forge's pull request as a web page (what a forge would show): title, state, branch,
 * checks with the first failure and the full log folded, the comments (the critic's verdicts), and
 * the diff with each file's scope verdict. Server-rendered, every value escaped, no script.
 */
import type { Adapter } from '../../src/config/schema.js';
import type { Db } from '../../src/store/db.js';
import { getPrRow, prComments } from '../../src/store/pull-requests.js';
import { taskDiff } from './diff.js';
import { firstFailure } from './overview.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]);


function patchHtml(patch: string): string {
  return patch
    .split('\n')
    .map((l) => `<span class="${l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : l.startsWith('@@') ? 'hunk' : ''}">${esc(l)}</span>`)
    .join('\n');
}

/** The page, or undefined when there is no such pull request. */
export async function prPage(db: Db, adapter: Adapter, number: number): Promise<string | undefined> {
  const pr = getPrRow(db, number);
  if (!pr) return undefined;
  const comments = prComments(db, number);
  const diff = await taskDiff(db, adapter, pr.task).catch((e: Error) => ({ files: [], note: e.message }));
  const log = pr.checks_log ?? '';
  const failure = log ? firstFailure(log) : null;
  const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>#${pr.number} ${esc(pr.title)} · oxi</title><link rel="stylesheet" href="/assets/style.css"></head>
<body class="pr-page" data-testid="pr-page">
<header><div class="brand">oxi <span>${esc(adapter.name)}</span></div><a href="/#task=${encodeURIComponent(pr.task)}&amp;tab=diff">← task ${esc(pr.task)} on the dashboard</a></header>
<main class="page">
<h1>${esc(pr.title)} <span class="muted">#${pr.number}</span></h1>
<p><span class="state ${esc(pr.state)}" data-testid="pr-state">${esc(pr.state)}</span> <code>${esc(pr.branch)}</code> → <code>${esc(pr.base)}</code> · head <code>${esc(pr.head_sha.slice(0, 12))}</code>${pr.merge_sha ? ` · merged as <code>${esc(pr.merge_sha.slice(0, 12))}</code>` : ''} · opened ${when(pr.created_at)} · updated ${when(pr.updated_at)}</p>
${pr.body ? `<pre class="wrap">${esc(pr.body)}</pre>` : ''}
<h2>Checks: <span class="state ${esc(pr.checks)}" data-testid="pr-checks">${esc(pr.checks)}</span></h2>
${failure ? `<p>First failure:</p><pre class="wrap failure">${esc(failure)}</pre>` : ''}
${log ? `<details><summary>Full log (${log.length} characters)</summary><pre class="wrap">${esc(log)}</pre></details>` : '<p class="muted">No checks log yet.</p>'}
<h2>Comments (${comments.length})</h2>
${comments.map((c) => `<div class="comment"><div class="muted">${when(c.at)}</div><pre class="wrap">${esc(c.body)}</pre></div>`).join('\n') || '<p class="muted">None.</p>'}
<h2>Files changed (${diff.files.length})</h2>
${'note' in diff && diff.note ? `<p class="muted">${esc(diff.note)}</p>` : ''}
${diff.files.map((f) => `<details class="file" open><summary><code>${esc(f.path)}</code> <span class="add">+${f.additions}</span> <span class="del">−${f.deletions}</span> <span class="scope ${esc(f.scope.verdict)}" title="${esc(f.scope.why)}">${esc(f.scope.verdict)}</span></summary><pre class="patch">${patchHtml(f.patch)}</pre></details>`).join('\n')}
</main></body></html>`;
}
