/**
 * macOS: the same rules as the bubblewrap mounts, written as a sandbox-exec (SBPL) profile. macOS has no
 * mount namespace, so the profile reads the other way round: everything is denied, reading the system is
 * allowed, the hidden paths (state dir, main clone, other workspaces, the home) are denied, and what the
 * session needs is allowed again after them — in SBPL the last matching rule wins. Writes go only to the
 * workspace (worker), the backend's home and the temp dirs. Generated and tested as text here; it has not
 * been run on macOS in CI (docs/security.md).
 */
import type { MountPlan } from './mounts.js';

export interface SbplInput {
  plan: MountPlan;
  /** Paths the agent must not read (the mounts' masks, plus the home). */
  denied: readonly string[];
}

/** SBPL string literal: backslash and double quote escaped. */
export function sbplString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const subpath = (p: string) => `(subpath ${sbplString(p)})`;

export function sbplProfile(input: SbplInput): string {
  const { plan } = input;
  const lines = [
    '(version 1)',
    '(deny default)',
    '(allow process-fork)',
    '(allow process-exec)',
    // Other processes (the engine's environment among them) stay out of reach: only this sandbox's own.
    '(allow process-info* (target same-sandbox))',
    '(allow signal (target same-sandbox))',
    '(allow sysctl-read)',
    '(allow mach-lookup)',
    '(allow ipc-posix-shm)',
    '(allow pseudo-tty)',
    '(allow file-ioctl)',
    '(allow file-read-metadata)',
    '(allow file-read*)',
    '(allow file-write* (subpath "/private/tmp") (subpath "/private/var/folders") (literal "/dev/null") (literal "/dev/tty"))',
  ];
  if (input.denied.length) lines.push(`(deny file-read* file-write* ${input.denied.map(subpath).join(' ')})`);
  // The mounts replayed in order: each later rule overrides the earlier ones, as each later mount does.
  for (const m of plan.mounts) {
    if (m.op === 'ro') lines.push(`(allow file-read* ${subpath(m.dest)})`, `(deny file-write* ${subpath(m.dest)})`);
    else if (m.op === 'rw' || (m.op === 'tmpfs' && m.scratch)) lines.push(`(allow file-read* file-write* ${subpath(m.dest)})`);
    else if (m.op === 'tmpfs') lines.push(`(deny file-read* file-write* ${subpath(m.dest)})`);
    else if (m.op === 'hide-file') lines.push(`(deny file-read* file-write* (literal ${sbplString(m.dest)}))`);
  }
  lines.push(plan.network === 'open' ? '(allow network*)' : '(deny network*)');
  return `${lines.join('\n')}\n`;
}

/** `sandbox-exec -p <profile> <argv>`, run in the workspace (the caller sets the cwd). */
export function sandboxExecArgv(input: SbplInput, program = '/usr/bin/sandbox-exec'): string[] {
  return [program, '-p', sbplProfile(input), ...input.plan.argv];
}
