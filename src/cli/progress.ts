import type { CommittedChange } from '../store/persister.js';

/** Progress output for long commands: one line per task status change. */
export function progressPrinter(write: (line: string) => void) {
  return (changes: CommittedChange[]) => {
    for (const c of changes) {
      if (c.machine === 'task') write(`  ${c.actor.slice(5).padEnd(9)} → ${c.status}`);
      else if (c.machine === 'engineState') write(`  engine → ${c.status}${c.status === 'killed' ? ` (${String((c.context as { reason?: string }).reason ?? '')})` : ''}`);
    }
  };
}
