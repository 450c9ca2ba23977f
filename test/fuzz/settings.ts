import fc from 'fast-check';

/**
 * How hard the fuzzers push: a few hundred cases per property in `npm test`, 10,000 in
 * `npm run fuzz` (OXI_FUZZ_RUNS). OXI_FUZZ_SEED replays a run; the seed is printed either way.
 */
export const FUZZ_RUNS = Number(process.env.OXI_FUZZ_RUNS ?? 300);
export const FUZZ_SEED = Number(process.env.OXI_FUZZ_SEED ?? Date.now() % 2 ** 31);

/** fc.assert options: seeded, and on failure the seed + counterexample path in the message. */
export function fuzzParams<T>(runs = FUZZ_RUNS): fc.Parameters<T> {
  return { numRuns: runs, seed: FUZZ_SEED };
}

/** Text biased towards the characters a markdown or NDJSON parser cares about. */
export const markdownish = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom('\n', '\r\n', '\r', ' ', '\t', '*', '**', '_', '`', '```', '~~~', '#', '## ', '## Tier 1', '## Tier 0\n', '- ', '1. ', '[ ] ', '[x] ', '·', '—', ':', '<!--', '-->', '\\', '[', ']', '(', ')', '\uFEFF', 'T1-', 'T0-12', 'T2-a9') },
      { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

/** Logs the seed once per file so a failure in CI can be replayed with OXI_FUZZ_SEED. */
export function announceSeed(suite: string): void {
  process.stderr.write(`fuzz ${suite}: ${FUZZ_RUNS} runs per property, seed ${FUZZ_SEED} (replay: OXI_FUZZ_SEED=${FUZZ_SEED})\n`);
}
