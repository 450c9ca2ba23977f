import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RoadmapError, UsageError } from '../../errors.js';
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
import { roadmapSourceFor } from '../../../actors/roadmap/from-adapter.js';
import { localSandboxStatus } from '../../../actors/sandbox/sandbox.js';
import { sandboxLine } from '../../sandbox/port.js';
import type { Adapter } from '../../config/schema.js';
import type { Db } from '../../store/db.js';
import { resolveAdapter, color, output, withStore, type GlobalOptions } from '../context.js';

export const TASK_STATUSES = [
  'queued', 'planning', 'waiting', 'deferred', 'provisioning', 'working', 'reaped', 'shipping', 'pr_open', 'checks', 'reviewing', 'pr_backoff',
  'merging', 'awaiting_human', 'rejected', 'backoff', 'held', 'merged', 'abandoned',
] as const;

export async function statusCommand(global: GlobalOptions & { dryRun?: boolean }): Promise<void> {
  if (global.dryRun) {
    // Validate config and roadmap without touching the database.
    const adapter = await resolveAdapter(global);
    if (adapter.roadmapSource.source !== 'markdown') {
      const data = { ok: true, config: adapter.name, roadmap: adapter.roadmapSource.source, items: null, problems: [] };
      output(global, data, () => `config ${adapter.name}: ok\nroadmap: GitHub Issues (not read in a dry run; \`oxi roadmap\` and \`oxi doctor\` read them)`);
      return;
    }
    const parsed = parseRoadmap(readRoadmap(adapter.roadmap));
    const errors = parsed.problems.filter((p) => p.severity === 'error');
    const data = { ok: errors.length === 0, config: adapter.name, roadmap: adapter.roadmap, items: parsed.items.length, problems: parsed.problems };
    output(global, data, () => `config ${adapter.name}: ok\nroadmap ${adapter.roadmap}: ${parsed.items.length} items${parsed.problems.map((p) => `\n  line ${p.line}: ${p.severity}: ${p.message}`).join('')}`);
    if (errors.length) throw new RoadmapError(`The roadmap has ${errors.length} error(s).`, { fix: 'Fix the lines listed above.' });
    return;
  }
  await withStore(global, async (adapter, db) => {
    const { data, summary, daemon, shown, answered, onDisk, sandbox } = await statusData(adapter, db);
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
        ...agentLines(summary.agents ?? agentSummary(db)),
        ...(shown ? [`config   ${configLine(shown, answered, onDisk)}`] : []),
        `sandbox  ${sandbox.available ? color.green(sandboxLine(sandbox)) : color.red(sandboxLine(sandbox))}`,
        ...(summary.forge?.gate.closed ? [color.red(`forge    gate closed: ${summary.forge.gate.reason ?? 'credentials rejected'} — PR steps wait, probing`)] : []),
      ].join('\n');
    });
  });
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
  const onDisk = await liveConfig(adapter.source);
  const answered = daemon !== undefined && summary.config !== undefined;
  const shown = answered ? summary.config ?? undefined : onDisk;
  const config = shown ? { ...shown, live: answered, ...(answered && onDisk ? { changedOnDisk: onDisk.sha256 !== shown.sha256 } : {}) } : null;
  // Whether agents run confined here (agents.sandbox: {kind, available, reason}), probed once per process.
  const sandbox = localSandboxStatus(adapter.agents.sandbox);
  const data = { ...summary, config, agents: { ...(summary.agents ?? agentSummary(db)), sandbox }, daemon: daemon ? { pid: daemon.pid } : null, budget: adapter.budget };
  return { data, summary, daemon, shown, answered, onDisk, sandbox };
}

export async function tasksCommand(global: GlobalOptions & { status?: string }): Promise<void> {
  if (global.status && !(TASK_STATUSES as readonly string[]).includes(global.status)) {
    throw new UsageError(`--status: expected one of ${TASK_STATUSES.join(', ')}, got "${global.status}".`);
  }
  await withStore(global, (_adapter, db) => {
    const rows = listTasks(db, { status: global.status }).map((t) => ({
      id: t.id,
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
    }));
    output(global, rows, () =>
      rows.length
        ? rows.map((r) => `${r.id.padEnd(9)} ${(r.activity ? `${r.status}:${activityLabel(r.activity)}` : r.status).padEnd(14)} ${`#${r.pr ?? '-'}`.padEnd(5)} ${(r.backend ?? '').padEnd(10)} ${r.title}${r.reason && r.status === 'abandoned' ? color.dim(` — ${r.reason}`) : ''}`).join('\n')
        : 'no tasks',
    );
  });
}

function readRoadmap(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new RoadmapError(`Could not read the roadmap ${file}: ${(cause as Error).message}`, { fix: 'Pass --file, or set `roadmap` in the adapter.' });
  }
}

export async function roadmapCommand(global: GlobalOptions & { file?: string }): Promise<void> {
  const adapter = global.file ? undefined : await resolveAdapter(global);
  // A file given, or the markdown roadmap: parsed here; GitHub Issues: read through the source the seeder uses.
  if (adapter && adapter.roadmapSource.source !== 'markdown') {
    const source = roadmapSourceFor(adapter);
    const read = await source.read([]);
    output(global, read.items, () => read.items.map((i) => `${i.id.padEnd(9)} tier ${i.tier}  ${i.title}`).join('\n') || `no items (${source.where})`);
    for (const p of read.problems) process.stderr.write(`${source.where}: issue #${p.line}: ${p.severity}: ${p.message}\n`);
    return;
  }
  const file = global.file ? resolve(global.file) : adapter!.roadmap;
  const parsed = parseRoadmap(readRoadmap(file));
  const items = parsed.items.map(({ id, tier, title, description }) => ({ id, tier, title, description }));
  output(global, items, () => items.map((i) => `${i.id.padEnd(9)} tier ${i.tier}  ${i.title}`).join('\n') || 'no items');
  for (const p of parsed.problems) process.stderr.write(`${file}:${p.line}: ${p.severity}: ${p.message}\n`);
}
