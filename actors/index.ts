import { fromPromise } from 'xstate';
import { effectPlaceholders, type EffectName } from '../machines/effects.js';
import type { EffectDeps } from './deps.js';
import { deadmanCheck, makePrScan, probeHost, readCredentials, reapScan, seedRoadmap, sleepUntil } from './effects/background.js';
import { runAgent } from './effects/run-agent.js';
import { claimSlot, critique, merge, openPr, plan, provision, runChecks, ship } from './effects/task-effects.js';

type Impl = (deps: EffectDeps, input: any, signal: AbortSignal) => Promise<unknown>;

/**
 * The effect actors the machines name, bound to their dependencies.
 * Pass the result to `machine.provide({ actors })`; tests swap any of them.
 */
export function makeEffects(deps: EffectDeps): typeof effectPlaceholders {
  const impls: Record<EffectName, Impl> = {
    plan,
    claimSlot,
    provision,
    runAgent,
    ship,
    openPr,
    runChecks,
    critique,
    merge,
    sleep: sleepUntil,
    probeHost,
    seedRoadmap,
    reapScan,
    prScan: makePrScan(),
    deadmanCheck,
    notify: (d, input) => d.notifier.notify(input),
    readCredentials,
  };
  const out: Record<string, unknown> = {};
  for (const [name, impl] of Object.entries(impls)) {
    out[name] = fromPromise(({ input, signal }) => impl(deps, input, signal));
  }
  return out as typeof effectPlaceholders;
}

export type { EffectDeps } from './deps.js';
