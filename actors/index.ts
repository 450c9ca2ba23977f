import { fromEffect, type EffectLogic } from './effects/effect-logic.js';
import { EFFECT_NAMES, type EffectActors, type EffectInput, type EffectName, type EffectOutput } from '../machines/effects.js';
import { depsForTask, type EffectDeps } from './effects/deps.js';
import { oauthNotifyGate, readCredentials } from './agents/credentials.js';
import { deadmanCheck, makePrScan, makeReapScan, probeHost, seedRoadmap, sleepUntil } from './effects/background.js';
import { guardLaunch } from './effects/launch-guard.js';
import { runAgent } from './effects/run-agent.js';
import { claimSlot, critique, merge, openPr, plan, provision, runChecks, ship } from './effects/task-effects.js';

/** Effects allowed while killed: prWatcher's read-only scan, and waiting. */
const UNGATED = new Set<EffectName>(['prScan', 'sleep']);

/** An effect's implementation, checked against its declaration in machines/effects.ts `Effects`. */
export type EffectImpl<K extends EffectName> = (deps: EffectDeps, input: EffectInput<K>, signal: AbortSignal) => Promise<EffectOutput<K>>;
export type EffectImpls = { [K in EffectName]: EffectImpl<K> };

/** Each effect name bound to its implementation: a wrong input or output type is a compile error here. */
function implementations(): EffectImpls {
  const oauth = oauthNotifyGate();
  return {
    plan,
    claimSlot,
    provision: guardLaunch(provision),
    runAgent: guardLaunch(runAgent),
    ship,
    openPr,
    runChecks,
    critique,
    merge,
    sleep: sleepUntil,
    probeHost,
    seedRoadmap,
    reapScan: makeReapScan(),
    prScan: makePrScan(),
    deadmanCheck,
    notify: async (d, input) => (oauth.shouldSend(input) ? d.notifier.notify(input) : undefined),
    readCredentials: async (d) => {
      const out = await readCredentials(d);
      oauth.sawState(out.state);
      return out;
    },
  };
}

/** One implementation as an actor, parked while killed unless it is allowed then. */
function bind<K extends EffectName>(deps: EffectDeps, name: K, impl: EffectImpl<K>): EffectLogic<EffectOutput<K>, EffectInput<K>> {
  const gated = !UNGATED.has(name);
  return fromEffect<EffectOutput<K>, EffectInput<K>>(async ({ input, signal }) => {
    // An actor started (or restored) while the engine is killed learns it a moment later;
    // its effect must not act in between: it parks until the held state stops it.
    if (gated && deps.killed?.()) return new Promise<never>(() => {});
    // A task's effect acts in its own repository: its clone, forge, checks, scope, branch prefix and routes.
    const taskId = (input as { taskId?: unknown }).taskId;
    return impl(typeof taskId === 'string' ? depsForTask(deps, taskId) : deps, input, signal);
  });
}

/**
 * The effect actors the machines name, bound to their dependencies.
 * Pass the result to `machine.provide({ actors })`; tests swap any of them.
 */
export function makeEffects(deps: EffectDeps): EffectActors {
  const impls = implementations();
  const out: Partial<EffectActors> = {};
  // Generic in K so each name's implementation and actor are checked as one pair (TS cannot correlate a loop's union).
  const put = <K extends EffectName>(name: K) => {
    (out as Record<K, EffectLogic<EffectOutput<K>, EffectInput<K>>>)[name] = bind(deps, name, impls[name]);
  };
  for (const name of EFFECT_NAMES) put(name);
  return out as EffectActors;
}

export type { EffectDeps } from './effects/deps.js';
