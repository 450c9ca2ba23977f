/**
 * Where the workspace setup keeps its files: its log and exit code next to the worker's stream (in the
 * engine's logs on the local host, on the host itself for an SSH host), its record in the engine's logs,
 * and the cache directory per repository and host (docs/workspaces.md).
 */
import { join } from 'node:path';
import type { EffectDeps } from '../effects/deps.js';
import { placeOf } from '../hosts/places.js';

export interface SetupFiles {
  /** The setup's output (stdout and stderr), shown by `oxi tail`. */
  log: string;
  /** Its exit code, written by the wrapper once it ends. */
  exit: string;
  pid: string;
  /** What ran last in this task (engine-side): the key, the attempt, whether it passed. */
  record: string;
}

export function setupFiles(deps: EffectDeps, taskId: string, host: string, attempt: number, fix: number): SetupFiles {
  const local = join(deps.adapter.paths.logs, taskId);
  const where = placeOf(deps, host).streamsDir(taskId) ?? local;
  const stem = `setup-a${attempt}-f${fix}`;
  return { log: `${where}/${stem}.log`, exit: `${where}/${stem}.exit`, pid: `${where}/${stem}.pid`, record: join(local, 'setup.json') };
}

/** The setup's cache directory on a host: one per repository (project and session tag) and host, shared by its tasks. */
export function cacheDirOf(deps: EffectDeps, host: string): string {
  return placeOf(deps, host).cacheDir;
}
