/**
 * The daemon lock: a small SQLite file the daemon holds in EXCLUSIVE locking mode for its whole life.
 * The kernel drops the lock the moment the process exits, so only a live process can hold it.
 */
import Database from 'better-sqlite3';

const busy = (error: unknown) => {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
};

/** Whether a live process holds the lock: a read needs a shared lock, which the holder's exclusive one refuses at once. */
export function lockIsHeld(path: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
    db.prepare("SELECT name FROM sqlite_master WHERE name = 'daemon'").get();
    return false;
  } catch (error) {
    return busy(error);
  } finally {
    db?.close();
  }
}

/**
 * Takes the exclusive lock for `pid`, or returns undefined when a live process holds it. Close the
 * returned handle to release it.
 */
export function takeExclusiveLock(path: string, pid: number): { close(): void } | undefined {
  // A short busy wait rides out a reader's momentary shared lock (lockIsHeld); a live daemon's lock never clears.
  const lock = new Database(path, { timeout: 300 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is kept until close.
    lock.exec('CREATE TABLE IF NOT EXISTS daemon (pid INTEGER); DELETE FROM daemon;');
    lock.prepare('INSERT INTO daemon (pid) VALUES (?)').run(pid);
    return lock;
  } catch (error) {
    lock.close();
    if (busy(error)) return undefined;
    throw error;
  }
}
