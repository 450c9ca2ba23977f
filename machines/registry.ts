import type { AnyStateMachine } from 'xstate';
import { CHILD_MACHINES, engineMachine } from './engine.js';

/** The machines of the supervision tree, by the `machine` name the persister records (tree order). */
export const MACHINES: Readonly<Record<string, AnyStateMachine>> = { engine: engineMachine, ...CHILD_MACHINES };
