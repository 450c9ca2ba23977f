import type { AnyActorRef } from 'xstate';

/**
 * The events an actor's machine handles anywhere (its states' `on` keys), without xstate's
 * internal ones: what `oxi send` may deliver to it. Undefined for an actor that is no machine.
 */
export function acceptedEvents(ref: AnyActorRef): string[] | undefined {
  const root = (ref as unknown as { logic?: { root?: { events?: string[] } } }).logic?.root;
  if (!root?.events) return undefined;
  return [...new Set(root.events)].filter((e) => !e.startsWith('xstate.') && !e.includes('*')).sort();
}

/** Undefined when the actor takes the event; else the message `oxi send` answers with. */
export function refuseEvent(actorId: string, ref: AnyActorRef, type: string): string | undefined {
  const accepted = acceptedEvents(ref);
  if (!accepted || accepted.includes(type)) return undefined;
  return `oxi send: ${actorId} does not accept "${type}". Accepted events: ${accepted.join(', ') || '(none)'}.`;
}
