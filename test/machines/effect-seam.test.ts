import { createActor, fromPromise, toPromise } from 'xstate';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { makeEffects, type EffectImpl, type EffectImpls } from '../../actors/index.js';
import type { EffectDeps } from '../../actors/effects/deps.js';
import { plan, ship } from '../../actors/effects/task-effects.js';
import { runAgent } from '../../actors/effects/run-agent.js';
import { EFFECT_NAMES, effectPlaceholders, type EffectInput, type EffectName, type EffectOutput, type Effects, type PlanInput, type PlanOutput, type RunAgentInput, type WorkOutput } from '../../machines/effects.js';

/**
 * The seam between machines and effects: each effect is declared once (machines/effects.ts `Effects`)
 * and its implementation is checked against that declaration. The `@ts-expect-error` lines are the
 * test: `npm run typecheck` fails if a wrong implementation stops being a compile error.
 */
describe('the effect seam', () => {
  it('derives every input and output from the one declaration', () => {
    expectTypeOf<EffectInput<'plan'>>().toEqualTypeOf<PlanInput>();
    expectTypeOf<EffectOutput<'plan'>>().toEqualTypeOf<PlanOutput>();
    expectTypeOf<EffectInput<'runAgent'>>().toEqualTypeOf<RunAgentInput>();
    expectTypeOf<EffectOutput<'runAgent'>>().toEqualTypeOf<WorkOutput>();
    expectTypeOf(effectPlaceholders.plan).toEqualTypeOf(fromPromise<PlanOutput, PlanInput>(async () => ({ ok: false, error: '', costUsd: 0 })));
    expectTypeOf<keyof EffectImpls>().toEqualTypeOf<EffectName>();
    expectTypeOf<keyof Effects>().toEqualTypeOf<EffectName>();
  });

  it('accepts the implementations actors/ binds, and refuses wrong ones at compile time', () => {
    expectTypeOf(plan).toMatchTypeOf<EffectImpl<'plan'>>();
    expectTypeOf(runAgent).toMatchTypeOf<EffectImpl<'runAgent'>>();
    expectTypeOf(ship).toMatchTypeOf<EffectImpl<'ship'>>();

    // An implementation that needs a field the machine never passes.
    // @ts-expect-error: `budget` is not in PlanInput
    const needsMore: EffectImpl<'plan'> = async (_deps: EffectDeps, input: PlanInput & { budget: number }) => ({ ok: false, error: String(input.budget), costUsd: 0 });
    // An implementation that answers with another effect's output.
    // @ts-expect-error: a WorkOutput is not a PlanOutput
    const wrongOutput: EffectImpl<'plan'> = async (): Promise<WorkOutput> => ({ outcome: 'ok', costUsd: 0, backend: 'x' });
    // Another effect's implementation under this name.
    // @ts-expect-error: ship's input is not plan's
    const swapped: EffectImpl<'plan'> = ship;
    expect([needsMore, wrongOutput, swapped].every((f) => typeof f === 'function')).toBe(true);
  });

  it('binds an actor for every declared effect, and a missing one fails loudly by name', async () => {
    // Binding touches no dependency: each effect reads its deps only when it runs.
    const effects = makeEffects({} as EffectDeps);
    expect(Object.keys(effects).sort()).toEqual([...EFFECT_NAMES].sort());
    expect(Object.keys(effectPlaceholders).sort()).toEqual([...EFFECT_NAMES].sort());
    const actor = createActor(effectPlaceholders.plan, { input: { taskId: 'T1', attempt: 0, title: 't', description: 'd' } }).start();
    await expect(toPromise(actor)).rejects.toThrow(/effect "plan" was not provided/);
  });
});
