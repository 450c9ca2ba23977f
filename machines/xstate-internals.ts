/**
 * The one place oxi reaches past xstate's public API. Each accessor names what it relies on;
 * test/machines/xstate-internals.test.ts pins every one against the installed xstate version, so an
 * upgrade that moves one fails there, not in the persister or an effect. Pure: type-only imports.
 */
import type { ActorSystem, AnyActorRef } from 'xstate';

type AnyActorSystem = ActorSystem<any>;

/** The part of an actor's logic oxi reads: a machine has `root` (its state tree) and `id`. */
interface LogicShape {
  id?: string;
  root?: unknown;
  getPersistedSnapshot(snapshot: unknown, options?: unknown): unknown;
}

/** `ref._parent`: the actor that spawned or invoked `ref` (undefined for a root). */
export function parentOf(ref: AnyActorRef): AnyActorRef | undefined {
  return (ref as unknown as { _parent?: AnyActorRef })._parent;
}

/** `ref.logic`: the logic the actor runs (typed away on AnyActorRef). */
function logicOf(ref: AnyActorRef): LogicShape {
  return (ref as unknown as { logic: LogicShape }).logic;
}

/** A state machine actor (its logic has a state tree), as opposed to a promise, callback or effect actor. */
export function isMachineActor(ref: AnyActorRef): boolean {
  return logicOf(ref).root !== undefined;
}

/**
 * `root` itself, or a machine actor `root` spawned directly, or one spawned by a shard supervisor (machine
 * `taskShard`) of `root`: the actors that own a persisted row. Shards own none: they hold only what rows rebuild.
 */
export function isRootOwned(ref: AnyActorRef, root: AnyActorRef | undefined): boolean {
  if (!root) return false;
  if (ref === root) return true;
  if (!isMachineActor(ref) || machineIdOf(ref) === SHARD_MACHINE) return false;
  const parent = parentOf(ref);
  return parent === root || (parent !== undefined && machineIdOf(parent) === SHARD_MACHINE && parentOf(parent) === root);
}

/** The machine id of the engine's task shard supervisors (machines/task-shard.ts). */
export const SHARD_MACHINE = 'taskShard';

/** The machine's id (`task`, `host`, …); `actor` for logic without one. */
export function machineIdOf(ref: AnyActorRef): string {
  return logicOf(ref).id ?? 'actor';
}

/** The logic's persisted form of `snapshot` (xstate's getPersistedSnapshot, reached through the ref). */
export function persistedSnapshotOf(ref: AnyActorRef, snapshot: unknown): unknown {
  return logicOf(ref).getPersistedSnapshot(snapshot);
}

/** `system._clock`: the clock given to `createActor(m, { clock })`, shared by the whole system. */
export function systemClock(system: AnyActorSystem): { now(): number } | undefined {
  const clock = (system as unknown as { _clock?: { now?: () => number } })._clock;
  return typeof clock?.now === 'function' ? (clock as { now(): number }) : undefined;
}

/**
 * `system._relay(source, target, event)`: delivers `event` to `target` as sent by `source`, so the
 * inspector sees the sender (xstate's own promise actors do this). Returns false when this xstate has
 * no relay; the caller then sends plainly (the same event, without the sender).
 */
export function relay(system: AnyActorSystem, source: unknown, target: unknown, event: { type: string }): boolean {
  const relaying = system as unknown as { _relay?: (source: unknown, target: unknown, event: unknown) => void };
  if (typeof relaying._relay !== 'function') return false;
  relaying._relay(source, target, event);
  return true;
}
