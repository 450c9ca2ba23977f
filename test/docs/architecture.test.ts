import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allDiagrams, machineDiagram, MACHINES } from '../../src/docs/diagrams.js';
import { renderArchitecture } from '../../src/docs/write-architecture.js';
import { ROOT } from '../helpers/project.js';

describe('docs/architecture.md', () => {
  it('carries the diagrams generated from the current machines (run `npm run docs` after changing one)', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    expect(renderArchitecture(doc)).toBe(doc);
    expect(doc).toContain(allDiagrams());
  });

  it('draws every state and every effect of each machine', () => {
    for (const [name, machine] of MACHINES) {
      const diagram = machineDiagram(machine);
      expect(diagram.startsWith('stateDiagram-v2'), name).toBe(true);
      const states = (machine as unknown as { root: { states: Record<string, unknown> } }).root.states;
      for (const key of Object.keys(states)) expect(diagram, `${name}.${key}`).toContain(`"${key}`);
    }
    expect(machineDiagram(MACHINES.find(([n]) => n === 'task')![1])).toContain('task_live_working --> task_live_shipping: runAgent ✓ [agentOk]');
  });
});
