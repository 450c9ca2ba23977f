/**
 * Pins machines/xstate-internals.ts to the installed xstate. Each accessor reaches past xstate's public
 * API; when one of these fails after an upgrade, re-verify in xstate's source (src/createActor.ts,
 * src/system.ts, src/actors/promise.ts) where the parent link, the machine's `root`, the system's
 * clock and `_relay` went, and adapt that one module.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createActor, createMachine, fromPromise, type AnyActorRef, type InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { SHARD_MACHINE, isMachineActor, isRootOwned, machineIdOf, parentOf, persistedSnapshotOf, relay, systemClock } from '../../machines/xstate-internals.js';
import { ROOT } from '../helpers/project.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'xstate', 'package.json'), 'utf8')) as { version: string }).version;
const REVERIFY = `xstate ${VERSION}: re-verify machines/xstate-internals.ts against this version's source`;

function system() {
  const child = createMachine({ id: 'child', initial: 'idle', states: { idle: { on: { poke: 'poked' } }, poked: {} } });
  const parent = createMachine({
    id: 'parent',
    initial: 'on',
    invoke: [
      { id: 'kid', src: child },
      { id: 'job', src: fromPromise(() => new Promise<void>(() => undefined)) },
    ],
    states: { on: {} },
  });
  const clock = { now: () => 42, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (id: unknown) => clearTimeout(id as never) };
  const seen: InspectionEvent[] = [];
  const root = createActor(parent, { clock, inspect: (e: InspectionEvent) => seen.push(e) } as never);
  root.start();
  const children = root.getSnapshot().children as Record<string, AnyActorRef>;
  return { root, kid: children.kid, job: children.job, clock, seen };
}

describe(`xstate internals (installed: xstate ${VERSION})`, () => {
  it('parentOf: a child names the actor that invoked it; a root has none', () => {
    const { root, kid, job } = system();
    expect(parentOf(kid), REVERIFY).toBe(root);
    expect(parentOf(job), REVERIFY).toBe(root);
    expect(parentOf(root), REVERIFY).toBeUndefined();
    root.stop();
  });

  it('isMachineActor / isRootOwned / machineIdOf: machines have a state tree and an id; promise actors do not', () => {
    const { root, kid, job } = system();
    expect(isMachineActor(root), REVERIFY).toBe(true);
    expect(isMachineActor(kid), REVERIFY).toBe(true);
    expect(isMachineActor(job), REVERIFY).toBe(false);
    expect([isRootOwned(root, root), isRootOwned(kid, root), isRootOwned(job, root), isRootOwned(kid, undefined)], REVERIFY).toEqual([true, true, false, false]);
    expect(machineIdOf(kid), REVERIFY).toBe('child');
    expect(persistedSnapshotOf(kid, kid.getSnapshot()), REVERIFY).toMatchObject({ value: 'idle', status: 'active' });
    root.stop();
  });

  it('isRootOwned: a machine under a task shard of the root owns a row; the shard and deeper actors do not', () => {
    const task = createMachine({ id: 'task', invoke: { id: 'deep', src: createMachine({ id: 'deep' }) } });
    const shard = createMachine({ id: SHARD_MACHINE, invoke: { id: 'task:T1', src: task } });
    const root = createActor(createMachine({ id: 'engine', invoke: { id: 'tasks:0', src: shard } })).start();
    const shardRef = (root.getSnapshot().children as Record<string, AnyActorRef>)['tasks:0'];
    const taskRef = (shardRef.getSnapshot().children as Record<string, AnyActorRef>)['task:T1'];
    const deep = (taskRef.getSnapshot().children as Record<string, AnyActorRef>).deep;
    expect([isRootOwned(shardRef, root), isRootOwned(taskRef, root), isRootOwned(deep, root)], REVERIFY).toEqual([false, true, false]);
    root.stop();
  });

  it('systemClock: the clock given to createActor is found through any actor of the system', () => {
    const { root, kid, clock } = system();
    expect(systemClock(root.system), REVERIFY).toBe(clock);
    expect(systemClock(kid.system)?.now(), REVERIFY).toBe(42);
    root.stop();
  });

  it('relay: delivers the event with its sender, and the inspector sees that sender', () => {
    const { root, kid, seen } = system();
    expect(relay(root.system, root, kid, { type: 'poke' }), REVERIFY).toBe(true);
    expect(kid.getSnapshot().value, REVERIFY).toBe('poked');
    const event = seen.find((e) => e.type === '@xstate.event' && (e as { event: { type: string } }).event.type === 'poke') as { sourceRef?: unknown; actorRef: unknown } | undefined;
    expect(event?.sourceRef, REVERIFY).toBe(root);
    expect(event?.actorRef, REVERIFY).toBe(kid);
    root.stop();
  });
});
