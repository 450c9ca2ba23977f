/**
 * `oxi say <taskId> "message"`: tells the task's live agent something (queued until its turn ends, then its
 * session is resumed with it). `oxi attach <taskId>`: follows the transcript live (`oxi tail`) and sends each
 * line typed as a message (`oxi say`), until the task ends, stdin closes, or Ctrl-C.
 */
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { OxiError } from '../../errors.js';
import { sayToTask } from '../../say/say.js';
import { output, withStore, type GlobalOptions } from '../context.js';
import { tailCommand } from './tail.js';

export function operatorName(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export async function sayCommand(global: GlobalOptions, taskId: string, message: string): Promise<void> {
  await withStore(global, (adapter, db) => {
    const result = sayToTask({ db, stateDir: adapter.paths.stateDir, by: operatorName() }, taskId, message);
    output(global, result, () => `queued for ${result.backend} worker ${result.pid} of ${taskId} (message ${result.message}): it reaches the agent when its turn ends (oxi tail ${taskId} shows it)`);
  });
}

export async function attachCommand(global: GlobalOptions, taskId: string, input: NodeJS.ReadableStream = process.stdin, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  const stop = new AbortController();
  const lines = createInterface({ input, terminal: false });
  write(`attached to ${taskId}: its transcript follows; type a line and Enter to tell its agent (Ctrl-D to detach)\n`);
  // Lines are sent in order, one at a time (each opens the store for its own short transaction).
  let sending = Promise.resolve();
  lines.on('line', (line) => {
    if (!line.trim()) return;
    sending = sending.then(() =>
      withStore(global, (adapter, db) => {
        const r = sayToTask({ db, stateDir: adapter.paths.stateDir, by: operatorName() }, taskId, line);
        write(`» queued (message ${r.message}): reaches the agent when its turn ends\n`);
      }).catch((error: unknown) => write(`» not sent: ${error instanceof OxiError ? error.message : String(error)}\n`)),
    );
  });
  lines.once('close', () => void sending.then(() => stop.abort()));
  try {
    await tailCommand({ ...global, json: false, follow: true }, taskId, write, stop.signal);
  } finally {
    lines.close();
    await sending;
  }
}
