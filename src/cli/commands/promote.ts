import { runPromote } from '../../../actors/effects/promote.js';
import { endInterruptedPromotes } from '../../../actors/effects/promote-recovery.js';
import { systemClock } from '../../clock.js';
import { pickRecipe, promoteName, promoteRecipes } from '../../config/promote.js';
import type { Adapter, PromoteRecipe } from '../../config/schema.js';
import { DaemonError, UsageError } from '../../errors.js';
import { makeNotifier } from '../../notify/notifier.js';
import { callDaemon } from '../../runtime/control.js';
import type { Db } from '../../store/db.js';
import { readKillswitch } from '../../store/engine-state.js';
import { lastEventId } from '../../store/ledger.js';
import { lastPromoteRow, promoteRunAfter, recentPromoteRows, type PromoteRow } from '../../store/promote.js';
import { readPid } from '../../runtime/pidfile.js';
import { output, withStore, type GlobalOptions } from '../context.js';
import { operator } from './control.js';

export interface PromoteOptions extends GlobalOptions {
  now?: boolean;
  repo?: string;
}

/** How long the daemon's promoter may take to start a run it was asked for (it may be ending a notification). */
const START_WAIT_MS = 120_000;
const POLL_MS = 200;
/** How often a run in this process looks at the killswitch (as often as the daemon does). */
const KILL_POLL_MS = 250;

/**
 * `oxi promote`: the recipes and their last runs. `oxi promote --now [--repo NAME]` runs one once: through the
 * running daemon's promoter when a daemon runs (so the run is its, killed with it), else right here. Either way
 * the run is a `promote.run` ledger row, and a failure is notified. Exit 0 when the command succeeded, 1 when not.
 */
export async function promoteCommand(global: PromoteOptions): Promise<number> {
  return withStore(global, async (adapter, db) => {
    if (!global.now) return listRuns(global, adapter, db);
    const recipe = pickRecipe(adapter, global.repo);
    const name = promoteName(recipe);
    const kill = readKillswitch(db);
    if (kill.killed) {
      throw new UsageError(`oxi promote: expected a running engine, but it is killed (${kill.reason ?? 'no reason'}): no promote runs while killed.`, { fix: 'Resume it with `oxi unkill`, then run oxi promote --now again.' });
    }
    const daemon = readPid(adapter.paths.stateDir);
    const row = daemon ? await viaDaemon(adapter, db, recipe, daemon.pid) : await direct(adapter, db, recipe);
    const p = row.payload as { ok: boolean; exitCode: number | null; durationMs: number; summary: string; outputTail: string; repo: string; trigger: string };
    output(global, { name, repo: p.repo, ok: p.ok, exitCode: p.exitCode, durationMs: p.durationMs, summary: p.summary, outputTail: p.outputTail, via: daemon ? 'daemon' : 'direct', ledgerId: row.id }, () =>
      [`promote ${name}: ${p.ok ? 'ok' : 'FAILED'} (${p.summary}) in ${(p.durationMs / 1000).toFixed(1)} s${daemon ? ', run by the daemon' : ''}`, ...(p.ok || !p.outputTail ? [] : ['--- output (last 4 KiB) ---', p.outputTail.trimEnd()])].join('\n'),
    );
    return p.ok ? 0 : 1;
  });
}

/** Asks the daemon's promoter, then follows the ledger: the run it starts, then the row that ends it. */
async function viaDaemon(adapter: Adapter, db: Db, recipe: PromoteRecipe, pid: number): Promise<PromoteRow> {
  const name = promoteName(recipe);
  const before = lastEventId(db);
  const res = await callDaemon(adapter.paths.stateDir, { op: 'send', actor: `promoter:${name}`, event: { type: 'promote.now', by: operator() } });
  if (!res.ok) {
    throw new DaemonError(`oxi promote: the daemon (pid ${pid}) has no promoter "${name}": ${res.error}`, {
      fix: 'The daemon reads the adapter once: a promote recipe added after it started needs a restart of `oxi run`.',
    });
  }
  // A run in flight (started, not ended): the daemon's promoter runs ours after it.
  const inFlight = lastPromoteRow(db, name)?.kind === 'promote.started';
  process.stderr.write(`oxi promote: the daemon (pid ${pid}) runs ${name}${inFlight ? ' once the run in flight has ended' : ''}; waiting for its result…\n`);
  const startDeadline = Date.now() + START_WAIT_MS + (inFlight ? recipe.timeoutMinutes * 60_000 : 0);
  let started: PromoteRow | undefined;
  let endDeadline = Infinity;
  for (;;) {
    if (!started) {
      started = recentPromoteRows(db, 5, name).find((r) => r.id > before && r.kind === 'promote.started');
      // The run ends by its timeout at the latest; past that (and a grace), the daemon died under it.
      if (started) endDeadline = Date.now() + recipe.timeoutMinutes * 60_000 + 120_000;
    }
    const ended = started && promoteRunAfter(db, name, started.id);
    if (ended) return ended;
    if (Date.now() > endDeadline) {
      throw new DaemonError(`oxi promote: the run the daemon started (ledger row ${started!.id}) has not ended past its ${recipe.timeoutMinutes} min timeout: the daemon may have stopped under it.`, {
        fix: 'Check `oxi status`: if the daemon died under it, its next start ends the command (recorded in promote_group) and records the run as interrupted; then run oxi promote --now again.',
      });
    }
    if (!started && Date.now() > startDeadline) {
      throw new DaemonError(`oxi promote: the daemon's promoter "${name}" did not start a run within ${START_WAIT_MS / 1000} s (it may be running one already, or held by a kill).`, {
        fix: 'Check `oxi promote` for the last runs and `oxi status`; try again once the run in flight has ended.',
      });
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * No daemon: the run happens in this process; Ctrl-C stops it, and so does an `oxi kill` from anywhere (the
 * killswitch is watched while it runs). A failure is notified from here.
 */
async function direct(adapter: Adapter, db: Db, recipe: PromoteRecipe): Promise<PromoteRow> {
  // Stdout is the command's answer (--json): the `log` notifier writes to stderr here.
  const notifier = makeNotifier(adapter, { out: { log: (s) => process.stderr.write(s), err: (s) => process.stderr.write(s) } });
  // A run an earlier process left behind (killed mid-run) is ended and recorded first: never two at once.
  const swept = await endInterruptedPromotes({ db, clock: systemClock, notifier, log: (line) => process.stderr.write(`${line}\n`) });
  const stop = new AbortController();
  let by = 'Ctrl-C';
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  const watch = setInterval(() => {
    if (!stop.signal.aborted && readKillswitch(db).killed) ((by = 'a kill of the engine'), stop.abort());
  }, KILL_POLL_MS);
  try {
    const out = await runPromote({ db, adapter, clock: systemClock, recipe, trigger: 'manual', actor: operator(), signal: stop.signal, stoppedBy: () => by });
    if (!out.ok) await notifier.notify({ kind: 'promote', severity: 'error', title: `Promote ${promoteName(recipe)} failed: ${out.summary}`, body: out.outputTail.slice(-1000) || '(no output)' });
    if (!out.ok || swept) await notifier.flush(15_000);
    return promoteRunAfter(db, promoteName(recipe), out.runId - 1)!;
  } finally {
    clearInterval(watch);
    process.off('SIGINT', onSigint);
  }
}

/** `oxi promote` without --now: each recipe and its last runs. */
function listRuns(global: PromoteOptions, adapter: Adapter, db: Db): number {
  const recipes = promoteRecipes(adapter);
  if (recipes.length === 0) pickRecipe(adapter); // the clear "none configured" error
  const view = recipes.map((r) => ({
    name: promoteName(r),
    command: r.command,
    schedule: r.schedule,
    enabled: r.enabled,
    runs: recentPromoteRows(db, 20, promoteName(r)).filter((row) => row.kind === 'promote.run').slice(0, 5).map((row) => ({ at: row.at, ...row.payload })),
  }));
  output(global, { recipes: view }, () =>
    view
      .map((v) => [`${v.name}: ${v.schedule}${v.enabled ? '' : ' (not enabled)'} · ${JSON.stringify(v.command)}`, ...(v.runs.length ? v.runs.map((r) => `  ${new Date(r.at).toISOString()}  ${(r as { ok?: boolean }).ok ? 'ok    ' : 'FAILED'}  ${String((r as { summary?: string }).summary)}  (${String((r as { trigger?: string }).trigger)})`) : ['  no runs yet'])].join('\n'))
      .join('\n'),
  );
  return 0;
}
