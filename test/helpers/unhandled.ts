/**
 * For the suites that exercise faults: any promise rejection nobody handled while the suite runs fails it
 * (in this process; a daemon in a child process records its own as `engine.unhandled_rejection` rows).
 */
import { afterAll, afterEach, beforeAll } from 'vitest';

export function failOnUnhandledRejections(): void {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => void seen.push(reason);
  beforeAll(() => void process.on('unhandledRejection', listener));
  afterEach(() => {
    if (!seen.length) return;
    const reasons = seen.splice(0).map((r) => (r instanceof Error ? r.stack ?? r.message : String(r)));
    throw new Error(`Expected no unhandled promise rejection; got ${reasons.length}:\n${reasons.join('\n')}`);
  });
  afterAll(() => void process.off('unhandledRejection', listener));
}
