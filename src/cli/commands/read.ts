import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { firstLine } from '../../brief/collect.js';
import { diskLine, diskUse } from '../../runtime/disk-use.js';
import { PreflightError, RoadmapError, UsageError } from '../../errors.js';
import { parseRoadmap } from '../../roadmap/parse.js';
import { callDaemon } from '../../runtime/control.js';
import { readPid } from '../../runtime/pidfile.js';
import { activityLabel } from '../../agents/activity.js';
import { agentLines, agentSummary } from '../../runtime/agent-summary.js';
import { parseActivity } from '../../store/agent-activity.js';
import { snapshotSummary, type StatusSummary } from '../../runtime/summary.js';
import { configLine } from '../../runtime/live-config.js';
import { liveConfig } from '../../config/source.js';
import { listTasks } from '../../store/tasks.js';
import { currentTriage, latestTriage } from '../../store/inference.js';
import { knownRepos, repoSpendLine, repoSummaries } from '../../runtime/repo-summary.js';
import { assertKnownRepo, taskIdentity } from '../../runtime/repo-names.js';
import { adapterForRepo, isMultiRepo, repoNames } from '../../config/repos.js';
import { localNetworkStatus, localSandboxStatus } from '../../../actors/sandbox/sandbox.js';
import { networkVerdict } from '../../../actors/network/policy.js';
import { promoteStatus, promoteStatusLine } from '../../runtime/promote-summary.js';
import { TASK_STATUSES } from '../../../machines/status.js';
import { sandboxLine } from '../../sandbox/port.js';
import type { Adapter } from '../../config/schema.js';
import type { Db } from '../../store/db.js';
import { resolveAdapter, color, output, withStore, type GlobalOptions } from '../context.js';

export { TASK_STATUSES };

export async function statusCommand(global: GlobalOptions & { dryRun?: boolean }): Promise<void> {
  if (global.dryRun) {
    // Validate config, repository, commands and roadmap (the preflight) without touching the database.
    const adapter = await resolveAdapter(global);
    // Loaded here: the preflight's subprocess library is not needed by a plain status.
    const [{ preflight }, { problemLines }] = await Promise.all([import('../../preflight/preflight.js'), import('../../preflight/gate.js')]);
    const results = await preflight(adapter);
    const problems = results.filter((r) => r.status !== 'ok');
    const failures = problems.filter((r) => r.status === 'fail');
    // Each repository's roadmap (one with `repo`): the file and how many items it parses to.
    const roadmaps = repoNames(adapter).map((name) => ({ name, ...dryRoadmap(adapterForRepo(adapter, name)) }));
    const { roadmap, items, line: roadmapLine } = roadmaps[0];
    const data = { ok: failures.length === 0, config: adapter.name, roadmap, items, problems, ...(isMultiRepo(adapter) ? { repos: roadmaps.map(({ name, roadmap, items }) => ({ name, roadmap, items })) } : {}) };
    const lines = isMultiRepo(adapter) ? roadmaps.map((r) => `${r.name}: ${r.line}`) : [roadmapLine];
    output(global, data, () => [`config ${adapter.name}: ok`, ...lines, ...problems.map(problemLines)].join('\n'));
    if (failures.length) throw new PreflightError(`preflight: ${failures.length} problem(s) would fail every task (listed above).`, { fix: 'Fix each line above, then run oxi status --dry-run again.' });
    return;
  }
  await withStore(global, async (adapter, db) => {
    const { data, summary, daemon, shown, answered, onDisk, sandbox, network, disk, repos, promote } = await statusData(adapter, db);
    output(global, data, () => {
      const e = summary.engine;
      const state = e.killed ? color.red(`killed (${e.reason ?? 'no reason'}${e.hard ? ', hard' : ''})`) : color.green(e.state);
      const counts = Object.entries(summary.counts).map(([k, v]) => `${k} ${v}`).join(', ') || 'no tasks yet';
      const hosts = summary.hosts.map((h) => `${h.name} ${h.inUse}/${h.capacity}${h.state ? ` ${h.state === 'unreachable' ? color.red(h.state) : h.state}` : ''}${h.blocked ? ' blocked' : ''}${h.lastError ? color.dim(` — ${h.lastError}`) : ''}`).join('\n         ') || '—';
      return [
        `engine   ${state}${daemon ? color.dim(` (daemon pid ${daemon.pid})`) : color.dim(' (no daemon running)')}`,
        `tasks    ${counts}`,
        `hosts    ${hosts}`,
        `spend    $${summary.spend.today.toFixed(2)} today (soft $${adapter.budget.dailySoftUsd}, hard $${adapter.budget.dailyHardUsd})${summary.spend.today >= adapter.budget.dailyHardUsd ? color.red(' — hard cap reached: nothing new dispatches until tomorrow') : summary.spend.today >= adapter.budget.dailySoftUsd ? ' — soft cap passed' : ''}`,
        ...(repos.length > 1 ? [`         by repository: ${repoSpendLine(repos, adapter.budget.dailyHardUsd)}`] : []),
        ...agentLines(summary.agents ?? agentSummary(db)),
        ...(shown ? [`config   ${configLine(shown, answered, onDisk)}`] : []),
        `disk     ${diskLine(disk, adapter.engine.janitor.keepMs)}`,
        `sandbox  ${sandbox.available ? color.green(sandboxLine(sandbox)) : color.red(sandboxLine(sandbox))}`,
        `network  ${((v) => (v.status === 'ok' ? v.detail : color.red(v.detail)))(networkVerdict(network))}`,
        ...promote.map((s, i) => `${i ? '         ' : 'promote  '}${s.last?.interrupted && !s.running ? color.red(promoteStatusLine(s)) : promoteStatusLine(s)}`),
        ...(summary.forge?.gate.closed ? [color.red(`forge    gate closed: ${summary.forge.gate.reason ?? 'credentials rejected'} — PR steps wait, probing`)] : []),
      ].join('\n');
    });
  });
}

/** A roadmap as the dry run reports it: the markdown file and its item count (null: unreadable, the preflight says why), or the GitHub source unread. */
function dryRoadmap(adapter: Adapter): { roadmap: string; items: number | null; line: string } {
  if (adapter.roadmapSource.source !== 'markdown') return { roadmap: adapter.roadmapSource.source, items: null, line: 'roadmap: GitHub Issues (not read in a dry run; `oxi roadmap` and `oxi doctor` read them)' };
  let items: number | null = null;
  try {
    items = parseRoadmap(readRoadmap(adapter.roadmap)).items.length;
  } catch {
    // unreadable: preflight already says so
  }
  return { roadmap: adapter.roadmap, items, line: `roadmap ${adapter.roadmap}: ${items} items` };
}

/** What `oxi status --json` prints (and the MCP `status` tool answers): the daemon's view when one runs, else the database's. */
export async function statusData(adapter: Adapter, db: Db) {
  let summary: StatusSummary = snapshotSummary(db);
  const daemon = readPid(adapter.paths.stateDir);
  if (daemon) {
    const res = await callDaemon(adapter.paths.stateDir, { op: 'status' }).catch(() => undefined);
    if (res?.ok) summary = res as unknown as StatusSummary;
  }
  // The daemon's config is the one it started with; without a daemon, the file a start would load now.
  // Its git queries start first, so they run while the synchronous sandbox probe below blocks.
  const onDiskRead = liveConfig(adapter.source);
  // Whether agents run confined here (agents.sandbox: {kind, available, reason}), probed once per process.
  const sandbox = localSandboxStatus(adapter.agents.sandbox);
  const network = localNetworkStatus(adapter);
  const onDisk = await onDiskRead;
  const answered = daemon !== undefined && summary.config !== undefined;
  const shown = answered ? summary.config ?? undefined : onDisk;
  const config = shown ? { ...shown, live: answered, ...(answered && onDisk ? { changedOnDisk: onDisk.sha256 !== shown.sha256 } : {}) } : null;
  const disk = diskUse(adapter);
  // Spend and counts per repository: the database is the truth whether or not a daemon answered.
  const repos = repoSummaries(adapter, db);
  const promote = promoteStatus(adapter, db);
  const data = { ...summary, repos, config, ...(promote.length ? { promote } : {}), agents: { ...(summary.agents ?? agentSummary(db)), sandbox, network }, daemon: daemon ? { pid: daemon.pid } : null, budget: adapter.budget, disk };
  return { data, summary, daemon, shown, answered, onDisk, sandbox, network, disk, repos, promote };
}

export async function tasksCommand(global: GlobalOptions & { status?: string; repo?: string }): Promise<void> {
  if (global.status && !TASK_STATUSES.includes(global.status)) {
    throw new UsageError(`--status: expected one of ${TASK_STATUSES.join(', ')}, got "${global.status}".`);
  }
  await withStore(global, (adapter, db) => {
    const triage = latestTriage(db);
    const multi = isMultiRepo(adapter);
    if (global.repo !== undefined) assertKnownRepo(global.repo, knownRepos(adapter, db));
    const rows = listTasks(db, { status: global.status }).filter((t) => global.repo === undefined || t.repo === global.repo).map((t) => ({
      id: t.id,
      repo: t.repo,
      tier: t.tier,
      title: t.title,
      status: t.status,
      attempts: t.attempt + (t.status === 'queued' ? 0 : 1),
      pr: t.pr,
      host: t.host,
      last_progress_at: new Date(t.last_progress_at).toISOString(),
      cost_usd: t.cost_usd,
      reason: t.reason,
      backend: t.backend ?? null,
      activity: t.status === 'working' ? (parseActivity(t.activity) ?? { kind: 'starting' }) : null,
      // The summary of why it stopped (triage.enabled), while it is still stopped there; no field when there is none.
      ...(currentTriage(triage, t) ? { triage: currentTriage(triage, t) } : {}),
    }));
    output(global, rows.map((r) => ({ ...r, reason_line: firstLine(r.reason), logs: join(adapter.paths.logs, r.id) })), () => (rows.length ? taskTable(rows, adapter.paths.logs, multi) : global.repo === undefined ? 'no tasks' : `no tasks in ${global.repo}`));
  });
}

/** `oxi tasks` for people: a header, columns sized to their longest cell, one line per failure reason. */
function taskTable(rows: Array<{ id: string; repo: string; status: string; activity: { kind: string } | null; attempts: number; pr: number | null; host: string | null; last_progress_at: string; backend: string | null; title: string; reason: string | null; triage?: string }>, logs: string, multi: boolean): string {
  const now = Date.now();
  const cells = rows.map((r) => [
    taskIdentity(multi, r),
    r.activity ? `${r.status}:${activityLabel(r.activity as never)}` : r.status,
    String(r.attempts),
    r.pr === null ? '-' : `#${r.pr}`,
    r.host ?? '-',
    ago(now - Date.parse(r.last_progress_at)),
    r.backend ?? '-',
    r.title,
  ]);
  const header = ['ID', 'STATUS', 'ATTEMPTS', 'PR', 'HOST', 'LAST PROGRESS', 'BACKEND', 'TITLE'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]))).join('  ');
  const out = [color.dim(line(header))];
  rows.forEach((r, i) => {
    out.push(line(cells[i]));
    const failed = r.reason && !['merged', 'queued', 'working', 'planning', 'provisioning', 'shipping'].includes(r.status);
    if (failed) out.push(color.dim(`  ↳ ${firstLine(r.reason)} (full log: ${join(logs, r.id)}/)`));
    if (r.triage) out.push(`  ↳ triage: ${r.triage}`);
  });
  return out.join('\n');
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 5400) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

function readRoadmap(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new RoadmapError(`Could not read the roadmap ${file}: ${(cause as Error).message}`, { fix: 'Pass --file, or set `roadmap` in the adapter.' });
  }
}

interface RoadmapItemView {
  id: string;
  tier: number;
  title: string;
  description?: string;
}

/** One repository's roadmap items (the markdown file parsed here, or the GitHub Issues source as the seeder reads it); problems on stderr. */
async function roadmapItems(adapter: Adapter): Promise<{ items: RoadmapItemView[]; where: string }> {
  if (adapter.roadmapSource.source !== 'markdown') {
    // Loaded here: the GitHub client is only needed for an Issues roadmap.
    const { roadmapSourceFor } = await import('../../../actors/roadmap/from-adapter.js');
    const source = roadmapSourceFor(adapter);
    const read = await source.read([]);
    for (const p of read.problems) process.stderr.write(`${source.where}: issue #${p.line}: ${p.severity}: ${p.message}\n`);
    return { items: read.items, where: source.where };
  }
  return { items: roadmapFile(adapter.roadmap), where: adapter.roadmap };
}

function roadmapFile(file: string): RoadmapItemView[] {
  const parsed = parseRoadmap(readRoadmap(file));
  for (const p of parsed.problems) process.stderr.write(`${file}:${p.line}: ${p.severity}: ${p.message}\n`);
  return parsed.items.map(({ id, tier, title, description }) => ({ id, tier, title, description }));
}

const itemLine = (i: RoadmapItemView) => `${i.id.padEnd(9)} tier ${i.tier}  ${i.title}`;

export async function roadmapCommand(global: GlobalOptions & { file?: string; repo?: string }): Promise<void> {
  if (global.file && global.repo !== undefined) throw new UsageError('--file and --repo both name a roadmap.', { fix: 'Pass one: --file F reads that file, --repo NAME reads that repository\'s roadmap from the adapter.' });
  if (global.file) {
    const items = roadmapFile(resolve(global.file));
    output(global, items, () => items.map(itemLine).join('\n') || 'no items');
    return;
  }
  const adapter = await resolveAdapter(global);
  if (global.repo !== undefined) assertKnownRepo(global.repo, repoNames(adapter));
  if (!isMultiRepo(adapter)) {
    const { items, where } = await roadmapItems(adapter);
    output(global, items, () => items.map(itemLine).join('\n') || (adapter.roadmapSource.source === 'markdown' ? 'no items' : `no items (${where})`));
    return;
  }
  // Several repositories: each one's roadmap through its own view of the adapter, grouped under its name.
  const names = global.repo === undefined ? repoNames(adapter) : [global.repo];
  const groups: Array<{ repo: string; items: RoadmapItemView[]; where: string }> = [];
  for (const repo of names) groups.push({ repo, ...(await roadmapItems(adapterForRepo(adapter, repo))) });
  const items = groups.flatMap((g) => g.items.map((i) => ({ repo: g.repo, ...i })));
  output(global, items, () =>
    global.repo !== undefined
      ? groups[0].items.map(itemLine).join('\n') || `no items (${groups[0].where})`
      : groups.map((g) => [`${g.repo} (${g.where})`, ...(g.items.length ? g.items.map((i) => `  ${itemLine(i)}`) : ['  no items'])].join('\n')).join('\n\n'),
  );
}
