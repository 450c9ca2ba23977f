import type { AnyStateMachine } from 'xstate';
import { deadmanMachine } from './deadman.js';
import { engineMachine } from './engine.js';
import { engineStateMachine } from './engine-state.js';
import { hostMachine } from './host.js';
import { oauthWatchMachine } from './oauth-watch.js';
import { prWatcherMachine } from './pr-watcher.js';
import { reaperMachine } from './reaper.js';
import { seederMachine } from './seeder.js';
import { taskMachine } from './task.js';

/** The machines of the supervision tree, by the `machine` name the persister records (tree order). */
export const MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  engine: engineMachine,
  engineState: engineStateMachine,
  task: taskMachine,
  host: hostMachine,
  seeder: seederMachine,
  reaper: reaperMachine,
  prWatcher: prWatcherMachine,
  deadman: deadmanMachine,
  oauthWatch: oauthWatchMachine,
};
