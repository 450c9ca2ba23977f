import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { validateConfig } from '../../src/config/validate.js';
import { announceSeed, fuzzParams } from './settings.js';

announceSeed('config');

const configPath = '/srv/project/oxi.config.json';

/** Adapters close to valid: the right keys with values that are sometimes wrong, plus stray keys. */
const value = fc.oneof(fc.string({ maxLength: 10 }), fc.integer({ min: -5, max: 100_000 }), fc.boolean(), fc.constant(null), fc.double(), fc.jsonValue({ maxDepth: 2 }));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: value });
const nearlyValid = fc.record(
  {
    name: maybe(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/)),
    repo: maybe(fc.record({ path: maybe(fc.constantFrom('.', 'repo', '~/x')), mainBranch: maybe(fc.constantFrom('main', 'trunk')), forge: maybe(fc.constantFrom({ kind: 'local' }, { kind: 'github', owner: 'acme', name: 'w' }, { kind: 'gitlab' })) }, { requiredKeys: [] })),
    roadmap: maybe(fc.constantFrom('ROADMAP.md', 'docs/road.md')),
    hosts: maybe(fc.array(fc.record({ name: maybe(fc.constantFrom('local', 'box-1', 'Bad Name')), kind: maybe(fc.constantFrom('local', 'ssh')), maxWorkers: maybe(fc.integer({ min: 0, max: 9 })) }, { requiredKeys: [] }), { maxLength: 3 })),
    budget: maybe(fc.record({ perTaskUsd: maybe(fc.double({ min: -1, max: 100, noNaN: true })), dailySoftUsd: maybe(fc.integer({ min: 0, max: 100 })), dailyHardUsd: maybe(fc.integer({ min: 0, max: 200 })) }, { requiredKeys: [] })),
    engine: maybe(fc.record({ maxLiveTasks: maybe(fc.integer({ min: -1, max: 5000 })), backoffBaseMs: maybe(fc.integer({ min: 0, max: 10_000_000 })), backoffMaxMs: maybe(fc.integer({ min: 0, max: 10_000_000 })) }, { requiredKeys: [] })),
    checks: maybe(fc.record({ command: maybe(fc.array(fc.string({ minLength: 1, maxLength: 5 }), { maxLength: 3 })) }, { requiredKeys: [] })),
    extra: value,
  },
  { requiredKeys: ['name'] },
);

function rejectionIsClear(error: unknown): void {
  expect(error).toBeInstanceOf(ConfigError);
  const e = error as ConfigError;
  expect(e.message).toContain(configPath);
  // Every problem line names a path and says what was expected and what came.
  const lines = e.message.split('\n').slice(1);
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines) {
    expect(l).toMatch(/^- .+: expected .+, got .+/s);
    // The path is unambiguous: plain words joined by dots, odd keys quoted in brackets.
    const path = l.slice(2, l.indexOf(': expected ')).replace(/\["(?:[^"\\]|\\.)*"\]/g, '[k]');
    expect(path).toMatch(/^(\(root\)|[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+|\[k\])*|\[k\](\.[A-Za-z0-9_$-]+|\[k\])*)$/);
  }
  expect(e.fix).toMatch(/docs\/adapter\.md/);
}

describe('config validator under fuzzing', () => {
  it('accepts or rejects any value with a ConfigError listing path, expectation and what came', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 3 }), nearlyValid), (raw) => {
        try {
          validateConfig(raw, { configPath });
        } catch (error) {
          rejectionIsClear(error);
        }
      }),
      fuzzParams(),
    );
  });

  it('validate → print → validate is a fixed point: an accepted adapter validates to itself', () => {
    fc.assert(
      fc.property(nearlyValid, (raw) => {
        let adapter;
        try {
          adapter = validateConfig(raw, { configPath });
        } catch (error) {
          rejectionIsClear(error);
          return;
        }
        // Printed as a config: without `roadmapSource`, which the validator derives from `roadmap` (not a config key).
        const { roadmapSource: _derived, ...printed } = JSON.parse(JSON.stringify(adapter));
        expect(validateConfig(printed, { configPath })).toEqual(adapter);
      }),
      fuzzParams(),
    );
  });
});
