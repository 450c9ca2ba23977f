import { fromCallback, type AnyActorRef } from 'xstate';

/** The events engineState broadcasts; every machine handles both. */
export type KillEvent = { type: 'engine.killed'; reason: string; hard: boolean } | { type: 'engine.resumed' };

export const ENGINE_STATE_ID = 'engineState';

/**
 * Invoked at the root of every machine: forwards engineState's broadcasts into it.
 * A late joiner (spawned or restored while the engine is killed) is told at once.
 * Pure wiring inside the actor system: no I/O.
 */
export const killListener = fromCallback<KillEvent>(({ system, sendBack }) => {
  const engineState = system.get(ENGINE_STATE_ID) as AnyActorRef | undefined;
  if (!engineState) return () => {};
  const snap = engineState.getSnapshot();
  if (snap?.value === 'killed') {
    sendBack({ type: 'engine.killed', reason: String(snap.context.reason ?? ''), hard: Boolean(snap.context.hard) });
  }
  const a = engineState.on('engine.killed', (e: KillEvent) => sendBack(e));
  const b = engineState.on('engine.resumed', (e: KillEvent) => sendBack(e));
  return () => {
    a.unsubscribe();
    b.unsubscribe();
  };
});
