import { describe, expect, it } from 'vitest';
import { runChaos } from './chaos.js';

/**
 * The chaos suite. `npm test` runs the CI variant (8 tasks, 24 kills); `npm run chaos` the long one
 * (OXI_CHAOS_TASKS=50, OXI_CHAOS_KILLS=1000). OXI_CHAOS_SEED replays a run.
 */
const tasks = Number(process.env.OXI_CHAOS_TASKS ?? 8);
const kills = Number(process.env.OXI_CHAOS_KILLS ?? 24);
const seed = Number(process.env.OXI_CHAOS_SEED ?? Date.now() % 100_000);
const maxDelayMs = Number(process.env.OXI_CHAOS_MAX_DELAY_MS ?? 1050);

describe(`chaos: SIGKILL the daemon ${kills} times during a ${tasks}-task run (seed ${seed})`, () => {
  it('keeps the database whole, loses no acknowledged transition, one PR and one merge per task, no orphan, all terminal', { timeout: Number(process.env.OXI_CHAOS_TIMEOUT_MS ?? 300_000) }, async () => {
    const r = await runChaos({ tasks, kills, seed, maxDelayMs, log: (l) => process.stderr.write(`${l}\n`) });
    process.stderr.write(`chaos: seed ${r.seed}, ${r.kills} kills at ${r.killPoints.join(',')} ms; ${r.runs} runs, ${r.acks} acknowledged transitions, ${r.merged} merged, ${r.strays} stray checks runs (process groups) seen after kills\n`);
    expect(r.problems, `seed ${seed} (replay: OXI_CHAOS_SEED=${seed}); kill points ${r.killPoints.join(',')}`).toEqual([]);
    expect(r.merged).toBe(tasks);
  });
});
