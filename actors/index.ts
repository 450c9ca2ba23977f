import { fromEffect } from './effects/effect-logic.js';
import { effectPlaceholders, type EffectName } from '../machines/effects.js';
import type { EffectDeps } from './effects/deps.js';
import { oauthNotifyGate, readCredentials } from './agents/credentials.js';
import { deadmanCheck, makePrScan, makeReapScan, probeHost, seedRoadmap, sleepUntil } from './effects/background.js';
import { guardLaunch } from './effects/launch-guard.js';
import { runAgent } from './effects/run-agent.js';
import { claimSlot, critique, merge, openPr, plan, provision, runChecks, ship } from './effects/task-effects.js';

/** Effects allowed while killed: prWatcher's read-only scan, and waiting. */
const UNGATED = new Set<EffectName>(['prScan', 'sleep']);

type Impl = (deps: EffectDeps, input: any, signal: AbortSignal) => Promise<unknown>;

/**
 * The effect actors the machines name, bound to their dependencies.
 * Pass the result to `machine.provide({ actors })`; tests swap any of them.
 */
export function makeEffects(deps: EffectDeps): typeof effectPlaceholders {
  const oauth = oauthNotifyGate();
  const impls: Record<EffectName, Impl> = {
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
  const out: Record<string, unknown> = {};
  for (const [name, impl] of Object.entries(impls)) {
    const gated = !UNGATED.has(name as EffectName);
    out[name] = fromEffect(async ({ input, signal }) => {
      // An actor started (or restored) while the engine is killed learns it a moment later;
      // its effect must not act in between: it parks until the held state stops it.
      if (gated && deps.killed?.()) return new Promise<never>(() => {});
      return impl(deps, input, signal);
    });
  }
  return out as typeof effectPlaceholders;
}

export type { EffectDeps } from './effects/deps.js';
