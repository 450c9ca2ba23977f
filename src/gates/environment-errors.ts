/**
 * Environment errors: the machine running oxi is out of something (disk space, quota, a writable
 * file system, file descriptors). They say nothing about the task, so they must not count against it.
 */
const ENVIRONMENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EMFILE', 'ENFILE']);

/** The same conditions as a child process (git, ssh) prints them: it has no errno for us, only its stderr. */
const ENVIRONMENT_TEXTS: Array<[RegExp, string]> = [
  [/no space left on device/i, 'ENOSPC'],
  [/disk quota exceeded/i, 'EDQUOT'],
  [/read-only file system/i, 'EROFS'],
  [/too many open files in system/i, 'ENFILE'],
  [/too many open files/i, 'EMFILE'],
];

/**
 * The errno code of an environment error (ENOSPC, EDQUOT, EROFS, EMFILE, ENFILE), or undefined when
 * the error is anything else. Looks through `cause` chains, and at the message of a subprocess's failure.
 */
export function environmentErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && ENVIRONMENT_CODES.has(code)) return code;
    const text = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    for (const [pattern, name] of ENVIRONMENT_TEXTS) if (pattern.test(text)) return name;
  }
  return undefined;
}
