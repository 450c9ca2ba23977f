/**
 * Where the compiled scripted-agent worker lives, and the argv that starts it.
 * The worker always runs as compiled JS (Node 20 cannot run .ts): `npm run build` (also `pretest`) emits it to
 * dist/actors/agents/scripted/worker.js.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of dist/actors/agents/scripted/worker.js, whether this module runs from source or from dist. */
export function workerScriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Why: from dist the worker sits next to this module; from source (vitest, jiti) it is under <root>/dist.
  const fromDist = basename(dirname(dirname(dirname(here)))) === 'dist';
  return fromDist ? join(here, 'worker.js') : join(here, '..', '..', '..', 'dist', 'actors', 'agents', 'scripted', 'worker.js');
}

export interface WorkerArgvOptions {
  task: string;
  script: string;
  cwd: string;
  attempt?: number;
  /** The fix number (0 or absent: a first attempt). */
  fix?: number;
  /** The worker's prompt, passed like `claude -p`: a fix step can check the feedback reached it. */
  prompt?: string;
  /** The node binary; defaults to the one running oxi. */
  node?: string;
}

/** argv for HostTransport.spawnDetached: `node <worker.js> --task … --script … --cwd … [--attempt N] [--fix N] [--prompt TEXT]`. */
export function scriptedWorkerArgv(options: WorkerArgvOptions): string[] {
  const argv = [options.node ?? process.execPath, workerScriptPath(), '--task', options.task, '--script', options.script, '--cwd', options.cwd];
  if (options.attempt !== undefined) argv.push('--attempt', String(options.attempt));
  if (options.fix) argv.push('--fix', String(options.fix));
  // `--prompt=…` keeps a prompt that starts with "-" from reading as an option.
  if (options.prompt !== undefined) argv.push(`--prompt=${options.prompt}`);
  return argv;
}

/** What the worker reads to run (oxi's compiled code, its dependencies, package.json for ESM): bound read-only in the sandbox. */
export function workerProgramFiles(): string[] {
  // worker.js sits in <root>/dist/actors/agents/scripted/.
  const root = dirname(dirname(dirname(dirname(dirname(workerScriptPath())))));
  return [join(root, 'dist'), join(root, 'node_modules'), join(root, 'package.json')];
}
