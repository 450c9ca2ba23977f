import { join } from 'node:path';

/**
 * Per-task raw stream files of waited runs (planner, critic), next to the worker's
 * (`<logs>/<task>/worker-a<attempt>-f<fix>.ndjson`), so `oxi tail` and humans find them all in one place.
 * Each run gets its own file: a fallback route or a retry never overwrites the stream of the one before.
 */
export function roleFiles(logsDir: string, taskId: string, role: string, attempt: number, backend: string) {
  const dir = join(logsDir, taskId);
  const stem = `${role}-a${attempt + 1}-${backend}-${Date.now().toString(36)}`;
  return { dir, stream: join(dir, `${stem}.ndjson`), stderr: join(dir, `${stem}.stderr.log`) };
}
