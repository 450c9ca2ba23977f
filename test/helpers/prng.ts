/** The seeded PRNG lives with the simulation harness (src/sim), which the bench ships too. */
export * from '../../src/sim/prng.js';
