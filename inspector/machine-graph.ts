import { MACHINES } from '../machines/registry.js';
import type { AnyStateMachine } from 'xstate';
import { phaseOf } from './task/phases.js';

/** One state node of a statechart, as the page draws it. */
export interface GraphNode {
  /** Full id, e.g. `task.live.working`. */
  id: string;
  /** Its key in the parent, e.g. `working` (the status name the ledger uses). */
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial: string | null;
  /** Effects invoked while in this state (the named actors of `actors/`). */
  invoke: string[];
  children: GraphNode[];
  /** For the task machine: the phase the state belongs to (the page groups by it). */
  phase?: string;
}

export interface GraphEdge {
  source: string;
  target: string;
  /** A short label: `task.retry`, `done: plan`, `error: merge`, `always`. */
  event: string;
  guards: string[];
}

export interface MachineGraph {
  machine: string;
  root: GraphNode;
  edges: GraphEdge[];
}

export { MACHINES };

interface RawTransition {
  target?: Array<{ id: string }>;
  guard?: unknown;
}

interface RawNode {
  id: string;
  key: string;
  type: GraphNode['type'];
  initial?: { target: Array<{ id: string }> };
  invoke: Array<{ src: unknown }>;
  states: Record<string, RawNode>;
  transitions: Map<string, RawTransition[]>;
  always?: RawTransition[];
}

function eventLabel(event: string): string {
  const done = /^xstate\.done\.actor\.(.+)$/.exec(event);
  if (done) return `done: ${done[1]}`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(event);
  if (error) return `error: ${error[1]}`;
  return event;
}

function guardName(guard: unknown): string | null {
  if (!guard) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'guard';
}

/**
 * Reads a machine's resolved state-node tree (xstate's own definition, not a copy) into a
 * plain graph the page can lay out. Edges with the same source, target and event are merged.
 */
export function machineGraph(name: string, machine: AnyStateMachine): MachineGraph {
  const edges = new Map<string, GraphEdge>();
  const addEdge = (source: string, t: RawTransition, event: string) => {
    for (const target of t.target ?? []) {
      const label = eventLabel(event);
      const k = `${source}\u0000${target.id}\u0000${label}`;
      const edge = edges.get(k) ?? { source, target: target.id, event: label, guards: [] };
      const g = guardName(t.guard);
      if (g && !edge.guards.includes(g)) edge.guards.push(g);
      edges.set(k, edge);
    }
  };
  const walk = (n: RawNode): GraphNode => {
    for (const [event, ts] of n.transitions) for (const t of ts) addEdge(n.id, t, event);
    for (const t of n.always ?? []) addEdge(n.id, t, 'always');
    return {
      id: n.id,
      key: n.key,
      type: n.type,
      initial: n.initial?.target?.[0]?.id ?? null,
      invoke: n.invoke.map((i) => (typeof i.src === 'string' ? i.src : 'inline')).filter((s) => s !== 'killListener'),
      children: Object.values(n.states).map(walk),
      ...(name === 'task' && phaseOf(n.key) && n.type !== 'final' ? { phase: phaseOf(n.key) } : {}),
    };
  };
  const root = walk(machine.root as unknown as RawNode);
  return { machine: name, root, edges: [...edges.values()] };
}

const cache = new Map<string, MachineGraph>();

/** The graph of a known machine, or undefined for an unknown name. */
export function graphOf(name: string): MachineGraph | undefined {
  const machine = Object.hasOwn(MACHINES, name) ? MACHINES[name] : undefined;
  if (!machine) return undefined;
  let graph = cache.get(name);
  if (!graph) cache.set(name, (graph = machineGraph(name, machine)));
  return graph;
}
