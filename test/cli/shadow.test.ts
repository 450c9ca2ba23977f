/** `oxi shadow`: the same data as the dashboard's "agent shadow" panel, as JSON and as a table. */
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { oxi, sampleProject } from '../helpers/project.js';
import { seedShadowPairs } from '../helpers/shadow-pairs.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('oxi shadow', () => {
  it('--json prints the last pairs, agreement rate and cost delta; without it, a table', () => {
    const p = sampleProject({ tasks: 1, config: (c) => (c.agents.shadow = { backend: 'scripted', sample: 0.25 }) });
    cleanup = p.cleanup;
    const db = openDb(p.db);
    seedShadowPairs(db);
    db.close();
    const json = oxi(['shadow', '--json'], { cwd: p.dir });
    expect(json.code).toBe(0);
    const data = JSON.parse(json.stdout);
    expect(data).toMatchObject({ enabled: true, compared: 2, matched: 1, agreementRate: 0.5, realCostUsd: 1, shadowCostUsd: 1, costDeltaUsd: 0 });
    expect(data.pairs).toHaveLength(3);
    expect(data.pairs[1]).toMatchObject({ task: 'T2', attempt: 0, fix: 0, shape_match: false, costDeltaUsd: 0.25, real: { outcome: 'ok', files: ['a.js'] }, shadow: { backend: 'codex', files: ['a.js', 'b.js'], checks: 'failure' } });
    const human = oxi(['shadow'], { cwd: p.dir });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('agreement 50% (1/2)');
    expect(human.stdout).toMatch(/T1 a0 f0 .*claude\/opus ok .*codex\/gpt-5 ok .*match/);
    expect(human.stdout).toMatch(/T2 a0 f0 .*differ .*checks failure/);
    expect(human.stdout).toMatch(/T3 a1 f0 .*claude running .*codex running/);
  });

  it('with no pairs and shadow runs off, says so', () => {
    const p = sampleProject({ tasks: 1 });
    cleanup = p.cleanup;
    const json = JSON.parse(oxi(['shadow', '--json'], { cwd: p.dir }).stdout);
    expect(json).toMatchObject({ enabled: false, pairs: [], agreementRate: null, costDeltaUsd: 0 });
    expect(oxi(['shadow'], { cwd: p.dir }).stdout).toContain('shadow runs are off (agents.shadow is not set)');
  });
});
