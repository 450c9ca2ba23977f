/**
 * The `shadow_pair` table (agents.shadow): one row per sampled worker session, pairing the real worker's result
 * with the shadow route's run of the same prompt. The row is claimed before the shadow starts (unique per task,
 * attempt and fix), so a restart never starts a second shadow for the same session.
 */
import type { Db } from './db.js';

export interface ShadowPairRow {
  id: number;
  task: string;
  attempt: number;
  fix: number;
  start_sha: string;
  workspace: string;
  host: string;
  pid: number | null;
  real_backend: string;
  real_model: string | null;
  real_outcome: string | null;
  real_files: string | null;
  real_cost_usd: number | null;
  shadow_backend: string;
  shadow_model: string | null;
  shadow_status: 'running' | 'done' | 'failed' | 'interrupted';
  shadow_outcome: string | null;
  shadow_error: string | null;
  shadow_files: string | null;
  shadow_cost_usd: number | null;
  shadow_checks: 'success' | 'failure' | 'skipped' | null;
  /** Why the checks were skipped (null when they ran or nothing is known yet). */
  shadow_checks_reason: string | null;
  shape_match: number | null;
  started_at: number;
  ended_at: number | null;
  /** When the janitor removed the shadow's workspace (null while it may still be there). */
  workspace_removed_at: number | null;
}

export interface NewShadowPair {
  task: string;
  attempt: number;
  fix: number;
  startSha: string;
  workspace: string;
  host: string;
  realBackend: string;
  realModel: string | null;
  shadowBackend: string;
  shadowModel: string | null;
  at: number;
}

/** Claims the session's pair; undefined when it was claimed already (a restart, a relaunch after an outage). */
export function claimShadowPair(db: Db, p: NewShadowPair): number | undefined {
  const r = db
    .prepare(
      `INSERT INTO shadow_pair (task, attempt, fix, start_sha, workspace, host, real_backend, real_model, shadow_backend, shadow_model, shadow_status, started_at)
       VALUES (@task, @attempt, @fix, @startSha, @workspace, @host, @realBackend, @realModel, @shadowBackend, @shadowModel, 'running', @at)
       ON CONFLICT(task, attempt, fix) DO NOTHING`,
    )
    .run(p);
  return r.changes ? Number(r.lastInsertRowid) : undefined;
}

export function setShadowPid(db: Db, id: number, pid: number): void {
  db.prepare('UPDATE shadow_pair SET pid = ? WHERE id = ?').run(pid, id);
}

/** Files as stored: a sorted JSON array, so equal sets compare equal as text. */
function filesJson(files: readonly string[]): string {
  return JSON.stringify([...new Set(files)].sort());
}

/** The real worker's side of the session's pair (when it has one); the latest session of that attempt and fix wins. */
export function recordRealSide(db: Db, key: { task: string; attempt: number; fix: number }, side: { outcome: string; files: readonly string[]; costUsd: number; backend: string; model: string | null }): void {
  const files = filesJson(side.files);
  db.prepare(
    `UPDATE shadow_pair SET real_outcome = @outcome, real_files = @files, real_cost_usd = @cost, real_backend = @backend, real_model = @model,
       shape_match = CASE WHEN shadow_files IS NOT NULL THEN (shadow_files = @files) END
     WHERE task = @task AND attempt = @attempt AND fix = @fix`,
  ).run({ ...key, outcome: side.outcome, files, cost: side.costUsd, backend: side.backend, model: side.model });
}

export interface ShadowSide {
  status: 'done' | 'failed' | 'interrupted';
  outcome: string | null;
  error: string | null;
  files: readonly string[] | null;
  costUsd: number;
  checks: 'success' | 'failure' | 'skipped' | null;
  /** Why the checks were skipped. */
  checksReason?: string | null;
  at: number;
}

/** The shadow's result; a row no longer running (swept as interrupted) keeps what it has. */
export function recordShadowSide(db: Db, id: number, side: ShadowSide): void {
  const files = side.files ? filesJson(side.files) : null;
  db.prepare(
    `UPDATE shadow_pair SET shadow_status = @status, shadow_outcome = @outcome, shadow_error = @error, shadow_files = @files,
       shadow_cost_usd = @cost, shadow_checks = @checks, shadow_checks_reason = @checksReason, ended_at = @at, pid = NULL,
       shape_match = CASE WHEN real_files IS NOT NULL AND @files IS NOT NULL THEN (real_files = @files) END
     WHERE id = @id AND shadow_status = 'running'`,
  ).run({ id, status: side.status, outcome: side.outcome, error: side.error, files, cost: side.costUsd, checks: side.checks, checksReason: side.checksReason ?? null, at: side.at });
}

/** Shadows recorded as running: at a start, every one of them was cut off by the engine's end. */
export function runningShadowPairs(db: Db): ShadowPairRow[] {
  return db.prepare("SELECT * FROM shadow_pair WHERE shadow_status = 'running' ORDER BY id").all() as ShadowPairRow[];
}

/** The tasks of the shadows running now, one entry per shadow (the partial index `shadow_pair_running` answers it). */
export function runningShadowTasks(db: Db): string[] {
  return (db.prepare("SELECT task FROM shadow_pair WHERE shadow_status = 'running'").all() as Array<{ task: string }>).map((r) => r.task);
}

export function getShadowPairFor(db: Db, key: { task: string; attempt: number; fix: number }): ShadowPairRow | undefined {
  return db.prepare('SELECT * FROM shadow_pair WHERE task = ? AND attempt = ? AND fix = ?').get(key.task, key.attempt, key.fix) as ShadowPairRow | undefined;
}

export function getShadowPair(db: Db, id: number): ShadowPairRow | undefined {
  return db.prepare('SELECT * FROM shadow_pair WHERE id = ?').get(id) as ShadowPairRow | undefined;
}

/** A shadow's workspace the janitor may remove: its run ended and its task ended (merged or abandoned) before `before`. */
export interface ShadowLeftover {
  id: number;
  task: string;
  repo: string;
  attempt: number;
  fix: number;
  host: string;
  workspace: string;
}

export function finishedShadowWorkspaces(db: Db, before: number): ShadowLeftover[] {
  return db
    .prepare(
      `SELECT s.id, s.task, t.repo, s.attempt, s.fix, s.host, s.workspace FROM shadow_pair s JOIN tasks t ON t.id = s.task
       WHERE s.shadow_status <> 'running' AND s.workspace_removed_at IS NULL AND t.status IN ('merged','abandoned') AND t.updated_at < ?
       ORDER BY t.updated_at, s.id`,
    )
    .all(before) as ShadowLeftover[];
}

/** The janitor removed the pair's workspace (or found it gone): the pair itself stays, it is the report. */
export function forgetShadowWorkspace(db: Db, id: number, at: number): void {
  db.prepare('UPDATE shadow_pair SET workspace_removed_at = ? WHERE id = ? AND workspace_removed_at IS NULL').run(at, id);
}

/** The newest pairs first. */
export function recentShadowPairs(db: Db, limit = 50): ShadowPairRow[] {
  return db.prepare('SELECT * FROM shadow_pair ORDER BY id DESC LIMIT ?').all(limit) as ShadowPairRow[];
}

/** One pair as `oxi shadow --json` and the dashboard's "agent shadow" panel show it. */
export interface ShadowPairView {
  task: string;
  attempt: number;
  fix: number;
  startSha: string;
  real: { backend: string; model: string | null; outcome: string | null; files: string[] | null; costUsd: number | null };
  shadow: { backend: string; model: string | null; status: string; outcome: string | null; error: string | null; files: string[] | null; costUsd: number | null; checks: string | null; checksReason: string | null };
  shape_match: boolean | null;
  /** Shadow cost minus real cost, once both are known. */
  costDeltaUsd: number | null;
  startedAt: number;
  endedAt: number | null;
}

export interface ShadowReport {
  pairs: ShadowPairView[];
  /** Over the pairs shown: how many have both file sets known, and how many of those match. */
  compared: number;
  matched: number;
  /** Share of `shape_match` among the compared pairs; null when none is compared yet. */
  agreementRate: number | null;
  realCostUsd: number;
  shadowCostUsd: number;
  /** Shadow spend minus real spend over the pairs that have both. */
  costDeltaUsd: number;
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

function view(row: ShadowPairRow): ShadowPairView {
  const files = (json: string | null) => (json === null ? null : (JSON.parse(json) as string[]));
  const both = row.real_cost_usd !== null && row.shadow_cost_usd !== null;
  return {
    task: row.task,
    attempt: row.attempt,
    fix: row.fix,
    startSha: row.start_sha,
    real: { backend: row.real_backend, model: row.real_model, outcome: row.real_outcome, files: files(row.real_files), costUsd: row.real_cost_usd },
    shadow: { backend: row.shadow_backend, model: row.shadow_model, status: row.shadow_status, outcome: row.shadow_outcome, error: row.shadow_error, files: files(row.shadow_files), costUsd: row.shadow_cost_usd, checks: row.shadow_checks, checksReason: row.shadow_checks_reason },
    shape_match: row.shape_match === null ? null : row.shape_match === 1,
    costDeltaUsd: both ? round(row.shadow_cost_usd! - row.real_cost_usd!) : null,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

/** The last `limit` pairs (newest first), the agreement rate and the cost delta over them. */
export function shadowReport(db: Db, limit = 50): ShadowReport {
  const pairs = recentShadowPairs(db, limit).map(view);
  const compared = pairs.filter((p) => p.shape_match !== null);
  const matched = compared.filter((p) => p.shape_match).length;
  const costed = pairs.filter((p) => p.costDeltaUsd !== null);
  return {
    pairs,
    compared: compared.length,
    matched,
    agreementRate: compared.length ? matched / compared.length : null,
    realCostUsd: round(costed.reduce((s, p) => s + p.real.costUsd!, 0)),
    shadowCostUsd: round(costed.reduce((s, p) => s + p.shadow.costUsd!, 0)),
    costDeltaUsd: round(costed.reduce((s, p) => s + p.costDeltaUsd!, 0)),
  };
}

/** What the ledger holds as the pair's shadow spend (its spend rows name the pair), or undefined when none was appended. */
export function shadowSpendOf(db: Db, pairId: number): number | undefined {
  const row = db
    .prepare(
      `SELECT COUNT(*) AS n, COALESCE(SUM(CAST(json_extract(payload, '$.usd') AS REAL)), 0) AS usd FROM event
       WHERE kind = 'spend' AND json_extract(payload, '$.role') = 'shadow' AND json_extract(payload, '$.pair') = ?`,
    )
    .get(pairId) as { n: number; usd: number };
  return row.n ? row.usd : undefined;
}
