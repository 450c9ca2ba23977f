/**
 * SQLite failures as messages: which file, what is wrong with it, and how to fix it (restore the
 * backup oxi keeps, or `oxi doctor --repair`), never a stack trace.
 */
import { dirname } from 'node:path';
import { StoreError } from '../errors.js';
import { backupPath } from './backup.js';

export type DbTrouble = 'corrupt' | 'read-only' | 'locked' | 'full' | 'newer-schema' | 'other';

export function troubleOf(error: unknown): DbTrouble {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (/^SQLITE_(NOTADB|CORRUPT)/.test(code) || /malformed|not a database/i.test(message)) return 'corrupt';
  if (/^SQLITE_FULL/.test(code) || code === 'ENOSPC' || /database or disk is full|no space left/i.test(message)) return 'full';
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code) || code === 'EACCES' || code === 'EROFS' || /readonly|read-only/i.test(message)) return 'read-only';
  if (/^SQLITE_(BUSY|LOCKED)/.test(code) || /database is locked/i.test(message)) return 'locked';
  if (/newer than this oxi knows/.test(message)) return 'newer-schema';
  return 'other';
}

/** True for errors that came out of SQLite (or the file under it). */
export function isDbError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return (error as Error)?.name === 'SqliteError' || (typeof code === 'string' && code.startsWith('SQLITE_'));
}

const RESTORE = (file: string) =>
  `stop oxi, then restore the backup oxi keeps (cp ${backupPath(file)} ${file} && rm -f ${file}-wal ${file}-shm), or run \`oxi doctor --repair\` to copy what can be read into a new file (the old one is kept beside it)`;

/** The StoreError a command prints (exit 2) for a SQLite failure on `file`. */
export function dbError(file: string, error: unknown): StoreError {
  if (error instanceof StoreError && troubleOf(error) !== 'newer-schema') return error;
  const detail = `${(error as { code?: string })?.code ? `${(error as { code: string }).code}: ` : ''}${(error as Error)?.message ?? String(error)}`;
  const make = (message: string, fix: string) => new StoreError(message, { fix, cause: error });
  switch (troubleOf(error)) {
    case 'corrupt':
      return make(`The database ${file} is damaged: expected an oxi SQLite database, got ${detail}.`, `${RESTORE(file)[0].toUpperCase()}${RESTORE(file).slice(1)}.`);
    case 'read-only':
      return make(`The database ${file} cannot be written: expected a file (and directory ${dirname(file)}) writable by this user, got ${detail}.`, `Make them writable (ls -l ${dirname(file)}; chown or chmod u+w), or pass another path with --db.`);
    case 'locked':
      return make(`The database ${file} is locked by another process: expected to get it within the busy timeout, got ${detail}.`, 'Another oxi (or a sqlite3 shell) holds it: `oxi status` shows a running daemon; stop that process or wait for it, then retry.');
    case 'full':
      return make(`The disk holding the database ${file} is full: expected room for the next write, got ${detail}. SQLite rolled the write back; nothing committed was lost.`, `Free space on that disk (df -h ${dirname(file)}), then retry.`);
    case 'newer-schema':
      return make(`The database ${file} was written by a newer oxi: ${(error as Error).message}`, `Upgrade oxi to the version that wrote it, or stop oxi and restore the backup taken before that upgrade (cp ${backupPath(file)} ${file} && rm -f ${file}-wal ${file}-shm).`);
    default:
      return make(`The database ${file} failed: ${detail}.`, `If this repeats, ${RESTORE(file)}.`);
  }
}
