/** Database trouble is a message naming the file and the fix, exit 2: never a stack trace. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { dbError } from '../../src/store/db-errors.js';
import { openDb } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { ingestItems } from '../../src/store/tasks.js';
import { appendEvent } from '../../src/store/ledger.js';
import { oxi, sampleProject } from '../helpers/project.js';

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

function project() {
  const p = sampleProject({ tasks: 2 });
  cleanups.push(p.cleanup);
  return p;
}

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

describe('database errors', () => {
  it('a corrupt file: every command says which file and how to fix it (the backup, or doctor --repair), exit 2', () => {
    const p = project();
    openDb(p.db).close();
    writeFileSync(p.db, 'this is not a database '.repeat(500));
    for (const args of [['tasks'], ['status'], ['kill', '--reason', 'x']]) {
      const res = oxi(args, { cwd: p.dir });
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toContain(`oxi: The database ${p.db} is damaged: expected an oxi SQLite database, got SQLITE_NOTADB`);
      expect(res.stderr).toContain(`restore the backup oxi keeps (cp ${p.db}.backup ${p.db}`);
      expect(res.stderr).toContain('oxi doctor --repair');
      noStack(res.stderr);
    }
  });

  it('locked by another process: the command waits out the busy timeout, then says who to stop', () => {
    const p = project();
    openDb(p.db).close();
    const holder = new Database(p.db);
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const res = oxi(['kill', '--reason', 'x'], { cwd: p.dir });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(`oxi: The database ${p.db} is locked by another process`);
      expect(res.stderr).toContain('`oxi status` shows a running daemon');
      noStack(res.stderr);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('from a newer schema: names the file, upgrading oxi, and the backup', () => {
    const p = project();
    openDb(p.db).close();
    const db = new Database(p.db);
    db.pragma(`user_version = ${migrations.length + 3}`);
    db.close();
    const res = oxi(['tasks'], { cwd: p.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`oxi: The database ${p.db} was written by a newer oxi: The database schema is version ${migrations.length + 3}, newer than this oxi knows (${migrations.length}).`);
    expect(res.stderr).toContain(`Upgrade oxi to the version that wrote it, or stop oxi and restore the backup taken before that upgrade (cp ${p.db}.backup ${p.db}`);
  });

  it('read-only and a full disk (real SQLite errors) get their own message and fix', () => {
    const p = project();
    openDb(p.db).close();
    const ro = new Database(p.db, { readonly: true });
    let error: unknown;
    try {
      ro.exec(`INSERT INTO engine_state (id, killed) VALUES (2, 0)`);
    } catch (e) {
      error = e;
    }
    ro.close();
    const readOnly = dbError(p.db, error);
    expect(readOnly.message).toContain(`The database ${p.db} cannot be written: expected a file (and directory ${join(p.dir, '.oxi')}) writable by this user, got SQLITE_READONLY`);
    expect(readOnly.fix).toContain('chown or chmod u+w');

    const small = new Database(join(p.dir, '.oxi', 'small.db'));
    small.exec('CREATE TABLE t (b BLOB)');
    small.pragma('max_page_count = 8');
    try {
      small.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(64 * 1024));
    } catch (e) {
      error = e;
    }
    small.close();
    const full = dbError(p.db, error);
    expect(full.message).toContain(`The disk holding the database ${p.db} is full: expected room for the next write, got SQLITE_FULL`);
    expect(full.fix).toContain(`df -h ${join(p.dir, '.oxi')}`);
  });

  it('oxi keeps a backup before migrating an older database', () => {
    const p = project();
    mkdirSync(join(p.dir, '.oxi'), { recursive: true });
    const db = new Database(p.db);
    for (const [v, sql] of migrations.slice(0, 3).entries()) (db.exec(sql), db.pragma(`user_version = ${v + 1}`));
    db.close();
    expect(oxi(['tasks'], { cwd: p.dir }).code).toBe(0);
    const backup = new Database(`${p.db}.backup`, { readonly: true });
    expect(backup.pragma('user_version', { simple: true })).toBe(3);
    backup.close();
  });

  it('oxi doctor --repair copies the readable rows into a new file and keeps the damaged one', () => {
    const p = project();
    const db = openDb(p.db);
    ingestItems(db, p.ids.map((id, seq) => ({ id, repo: 'demo', tier: 0, title: id, description: '', seq })), Date.now());
    for (let i = 0; i < 2000; i++) appendEvent(db, { at: i, actor: 'test', kind: 'filler', payload: { text: 'x'.repeat(200) } });
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    // Damage a page in the middle of the event table (page 1 and the small tables stay whole).
    const bytes = readFileSync(p.db);
    const page = 4096;
    bytes.fill(0x41, page * 60, page * 61);
    writeFileSync(p.db, bytes);

    const res = oxi(['doctor', '--repair'], { cwd: p.dir });
    expect(res.stdout).toContain(`repaired ${p.db}: readable rows copied into a new file; the damaged one is kept as ${p.db}.damaged-`);
    expect(res.stdout).toMatch(/tasks\s+2 row\(s\) copied/);
    const kept = readdirSync(join(p.dir, '.oxi')).filter((f) => f.startsWith('oxi.db.damaged-') && !f.endsWith('-wal') && !f.endsWith('-shm'));
    expect(kept).toHaveLength(1);
    const repaired = new Database(p.db, { readonly: true });
    expect(repaired.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((repaired.prepare('SELECT COUNT(*) AS n FROM tasks').get() as { n: number }).n).toBe(2);
    repaired.close();
    expect(existsSync(join(p.dir, '.oxi', kept[0]))).toBe(true);
    expect(oxi(['tasks'], { cwd: p.dir }).code).toBe(0);
  });
});
