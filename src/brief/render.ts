/** The brief as markdown: deterministic for given data (UTC times, fixed order, fixed wording). */
import type { BriefData } from './collect.js';
import { taskIdentity } from '../runtime/repo-names.js';

export function renderBrief(b: BriefData): string {
  const lines: string[] = [];
  const mergedN = b.merged.length;
  lines.push(`# oxi brief · ${b.project}`, '');
  lines.push(`Last ${b.window.hours} h: ${utc(b.window.from)} → ${utc(b.window.to)}`, '');
  lines.push(
    `**${mergedN} merged · ${b.abandoned.length} abandoned · ${usd(b.spend.windowUsd)} spent · ` +
      `${b.spend.perMergedPrUsd === null ? 'no merged PR' : `${usd(b.spend.perMergedPrUsd)} per merged PR`} · ` +
      `${plural(b.reaped.length, 'stall')} reaped · ${plural(b.kills.filter((k) => k.kind === 'killed').length, 'kill')}**`,
    '',
  );

  lines.push(`## Merged PRs (${mergedN})`, '');
  if (!mergedN) lines.push('- none');
  const multi = b.repos.length > 1;
  const label = (t: { task: string; repo: string | null }) => (t.repo ? taskIdentity(multi, { id: t.task, repo: t.repo }) : t.task);
  for (const m of b.merged)
    lines.push(`- ${label(m)} · ${m.title} — ${m.pr === null ? 'no PR' : `PR #${m.pr}`}, ${usd(m.costUsd)}${m.alreadyMerged ? ' (was already merged)' : ''}`);
  lines.push('');

  lines.push(`## Abandoned (${b.abandoned.length})`, '');
  if (!b.abandoned.length) lines.push('- none');
  for (const a of b.abandoned) {
    lines.push(`- ${label(a)} · ${a.title} — ${a.reason ?? 'no reason recorded'}${a.logs ? ` (full log: ${a.logs}/)` : ''}`);
    if (a.triage) lines.push(`  - triage: ${a.triage}`);
  }
  lines.push('');

  if (b.waiting?.length) {
    lines.push(`## Waiting for a human (${b.waiting.length})`, '');
    for (const w of b.waiting) lines.push(`- ${w.task} · ${w.title}`, `  - triage: ${w.triage}`);
    lines.push('');
  }

  const s = b.spend;
  lines.push('## Spend', '');
  lines.push('| | spent | cap |', '|---|---:|---|');
  lines.push(`| last ${b.window.hours} h | ${usd(s.windowUsd)} | |`);
  lines.push(`| today (UTC) | ${usd(s.todayUsd)} | soft ${usd(s.caps.dailySoftUsd)} · hard ${usd(s.caps.dailyHardUsd)}${capNote(s)} |`);
  lines.push(`| per merged PR | ${s.perMergedPrUsd === null ? '—' : usd(s.perMergedPrUsd)} | per task ${usd(s.caps.perTaskUsd)} |`);
  if (multi) for (const r of b.repos) lines.push(`| ${r.name}: last ${b.window.hours} h · today | ${usd(r.windowUsd)} · ${usd(r.todayUsd)} | |`);
  if (s.budgetStops) lines.push('', `Dispatch refused by the daily hard cap ${plural(s.budgetStops, 'time')}.`);
  lines.push('');

  lines.push(`## Stalls reaped (${b.reaped.length})`, '');
  if (!b.reaped.length) lines.push('- none');
  for (const r of b.reaped) lines.push(`- ${utc(r.at)} ${r.task}${r.host ? ` on ${r.host}` : ''}${r.pid === null ? '' : ` (pid ${r.pid})`}`);
  lines.push('');

  lines.push(`## Kills (${b.kills.filter((k) => k.kind === 'killed').length})`, '');
  if (!b.kills.length) lines.push('- none');
  for (const k of b.kills) lines.push(`- ${utc(k.at)} ${k.kind === 'killed' ? `killed${k.reason ? `: "${k.reason}"` : ''}${k.by ? ` by ${k.by}` : ''}` : 'resumed'}`);
  if (b.killswitch.killed)
    lines.push(`- still killed: "${b.killswitch.reason ?? 'no reason'}"${b.killswitch.by ? ` by ${b.killswitch.by}` : ''}${b.killswitch.hard ? ' (hard)' : ''} — \`oxi unkill\` resumes`);
  lines.push('');

  lines.push('## Hosts', '');
  for (const h of b.hosts) {
    const load = h.capacity === null ? '' : `, ${h.inUse ?? 0}/${h.capacity} in use`;
    const flaps = h.unreachableEvents ? `, unreachable ${plural(h.unreachableEvents, 'time')} in the window` : '';
    lines.push(`- ${h.name}: ${h.status}${load}${flaps}${h.lastError ? ` — last error: ${h.lastError}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The one-line title used when the brief is posted. */
export function briefTitle(b: BriefData): string {
  return `oxi brief · ${b.project}: ${b.merged.length} merged, ${b.abandoned.length} abandoned, ${usd(b.spend.windowUsd)} spent in ${b.window.hours} h`;
}

function capNote(s: BriefData['spend']): string {
  if (s.todayUsd >= s.caps.dailyHardUsd) return ' — **hard cap reached**';
  if (s.todayUsd >= s.caps.dailySoftUsd) return ' — soft cap reached';
  return '';
}

function usd(n: number): string {
  return `$${n.toFixed(2)}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function utc(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
