/**
 * `oxi doctor`'s inference checks: nothing at all without an `inference` block; the key variable checked by name
 * (its value never shown); a broken rate card named with its fix.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inferenceChecks } from '../../src/doctor/inference.js';
import type { DoctorContext } from '../../src/doctor/types.js';
import { validateConfig } from '../../src/config/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-doctor-inference-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = 'sk-or-v1-doctor-secret-value';
function ctx(raw: Record<string, unknown>, env: Record<string, string> = {}): DoctorContext {
  const adapter = validateConfig({ name: 'w', ...raw }, { configPath: join(dir, 'oxi.config.json') });
  return { cwd: dir, adapter, env, home: dir } as DoctorContext;
}
const gateway = (extra: Record<string, unknown> = {}) => ({ inference: { baseUrl: 'https://openrouter.ai/api/v1', apiKeyEnv: 'OPENROUTER_API_KEY', models: { triage: 'x-ai/grok-4-fast' }, ...extra } });

describe('doctor: inference', () => {
  it('no inference block: no result (the report is as before)', async () => {
    expect(await inferenceChecks.check(ctx({}))).toEqual([]);
  });

  it('the key variable: ok when set (its value never in the report), fail when triage needs it and it is unset', async () => {
    const ok = await inferenceChecks.check(ctx({ ...gateway(), triage: { enabled: true } }, { OPENROUTER_API_KEY: KEY }));
    expect(ok[0]).toMatchObject({ id: 'inference', status: 'ok' });
    expect(JSON.stringify(ok)).not.toContain(KEY);
    const missing = await inferenceChecks.check(ctx({ ...gateway(), triage: { enabled: true } }));
    expect(missing[0]).toMatchObject({ id: 'inference', status: 'fail' });
    expect(missing[0].fix).toMatch(/Export OPENROUTER_API_KEY/);
    expect((await inferenceChecks.check(ctx(gateway())))[0].status).toBe('warn');
  });

  it('the cost source: the rate card priced, none (undercount said), a broken card failing with its fix', async () => {
    writeFileSync(join(dir, 'rates.json'), JSON.stringify({ 'x-ai/grok-4-fast': { input: 0.2, output: 0.5 } }));
    writeFileSync(join(dir, 'bad.json'), '{"x": {"input": "cheap"}}');
    const env = { OPENROUTER_API_KEY: KEY };
    expect((await inferenceChecks.check(ctx(gateway({ rateCard: 'rates.json' }), env)))[1].detail).toMatch(/rates\.json/);
    expect((await inferenceChecks.check(ctx(gateway(), env)))[1].detail).toMatch(/budget\.undercount_risk/);
    const bad = (await inferenceChecks.check(ctx(gateway({ rateCard: 'bad.json' }), env)))[1];
    expect(bad).toMatchObject({ id: 'inference:cost', status: 'fail' });
    expect(bad.detail).toMatch(/inference\.rateCard/);
  });
});
