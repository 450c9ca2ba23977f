import { readFileSync } from 'node:fs';

/** kill(pid, 0): ESRCH → no such process; EPERM → it exists but belongs to someone else. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The kernel's boot id (Linux), or null elsewhere: a pid recorded under another boot names nothing of ours. */
export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * A process's start time (clock ticks since boot, /proc/<pid>/stat field 22) and state letter, or null when it is
 * gone or there is no procfs. With the pid, the start time names one process: a reused pid has another.
 */
export function processStart(pid: number): { start: string; state: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and ')': the fields after the last ')' start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return null;
  }
}
