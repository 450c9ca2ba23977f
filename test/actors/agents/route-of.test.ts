/** Routing by role: the agent roles to their primary route, `triage` to the inference gateway's model. */
import { describe, expect, it } from 'vitest';
import { routeOf } from '../../../actors/agents/router.js';
import { validateConfig } from '../../../src/config/validate.js';

const adapter = (raw: Record<string, unknown>) => validateConfig({ name: 'w', ...raw }, { configPath: '/proj/oxi.config.json' });

describe('routeOf', () => {
  it('planner, worker and critic go to their agent routes; triage to inference.models.triage', () => {
    const a = adapter({
      agents: { planner: { backend: 'claude', model: 'sonnet' }, worker: { backend: 'codex' }, critic: { backend: 'claude', model: 'opus' } },
      inference: { baseUrl: 'http://127.0.0.1:4000/v1', models: { triage: 'triage-small' } },
    });
    expect(routeOf(a, 'planner')).toEqual({ backend: 'claude', model: 'sonnet' });
    expect(routeOf(a, 'worker')).toEqual({ backend: 'codex' });
    expect(routeOf(a, 'critic')).toEqual({ backend: 'claude', model: 'opus' });
    expect(routeOf(a, 'triage')).toEqual({ backend: 'inference', model: 'triage-small' });
  });

  it('triage has no route without a gateway or without its model', () => {
    expect(routeOf(adapter({}), 'triage')).toBeUndefined();
    expect(routeOf(adapter({ inference: { baseUrl: 'http://127.0.0.1:4000/v1' } }), 'triage')).toBeUndefined();
  });
});
