/** The adapter, the repository clone and the database. */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadAdapter } from '../config/load.js';
import { migrations } from '../store/migrations.js';
import type { CheckProvider, CheckResult, DoctorContext } from './types.js';

export const configCheck: CheckProvider = {
  name: 'config',
  needsAdapter: false,
  async check(ctx) {
    try {
      const adapter = await loadAdapter({ configPath: ctx.configPath, cwd: ctx.cwd });
      if (ctx.dbOverride) adapter.paths.db = isAbsolute(ctx.dbOverride) ? ctx.dbOverride : resolve(ctx.cwd, ctx.dbOverride);
      ctx.adapter = adapter;
      return [{ id: 'config', status: 'ok', detail: `adapter "${adapter.name}" loads` }];
    } catch (error) {
      const e = error as Error & { fix?: string };
      return [{ id: 'config', status: 'fail', detail: e.message, fix: e.fix ?? 'Run `oxi init` to create oxi.config.ts.' }];
    }
  },
};

export const projectChecks: CheckProvider = {
  name: 'project',
  needsAdapter: true,
  async check(ctx) {
    const adapter = ctx.adapter!;
    const results: CheckResult[] = [];

    // The roadmap source is checked by roadmap-source.ts.
    results.push(await repoCheck(ctx));
    results.push(dbCheck(adapter.paths.db));
    return results;
  },
};

async function repoCheck(ctx: DoctorContext): Promise<CheckResult> {
  const { repo } = ctx.adapter!;
  const inside = await ctx.run(['git', 'rev-parse', '--show-toplevel'], { cwd: repo.path });
  if (!inside.ok)
    return { id: 'repo', status: 'fail', detail: `${repo.path} is not a git repository`, fix: 'Set repo.path to your clone, or run `git init` there.' };
  const branch = await ctx.run(['git', 'rev-parse', '--verify', '--quiet', `refs/heads/${repo.mainBranch}`], { cwd: repo.path });
  if (!branch.ok)
    return { id: 'repo', status: 'fail', detail: `branch "${repo.mainBranch}" does not exist in ${repo.path}`, fix: `Create it (git checkout -b ${repo.mainBranch} && git commit --allow-empty -m init), or set repo.mainBranch.` };
  return { id: 'repo', status: 'ok', detail: `${repo.path} on ${repo.mainBranch}` };
}

function dbCheck(file: string): CheckResult {
  if (!existsSync(file)) {
    let dir = dirname(file);
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    try {
      accessSync(dir, constants.W_OK);
      return { id: 'db', status: 'ok', detail: `${file} will be created on first run` };
    } catch {
      return { id: 'db', status: 'fail', detail: `${file} cannot be created: ${dir} is not writable`, fix: 'Fix the permissions, or set paths.db / pass --db.' };
    }
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    const integrity = db.pragma('quick_check', { simple: true }) as string;
    if (version > migrations.length)
      return { id: 'db', status: 'fail', detail: `${file} has schema ${version}, newer than this oxi knows (${migrations.length})`, fix: 'Upgrade oxi, or restore the backup taken before the upgrade (docs/runbooks.md).' };
    if (integrity !== 'ok') return { id: 'db', status: 'fail', detail: `${file} fails its integrity check: ${integrity}`, fix: 'Stop oxi and restore the last backup (docs/runbooks.md).' };
    const pending = migrations.length - version;
    return { id: 'db', status: 'ok', detail: `${file}: schema ${version}${pending ? ` (${pending} migration(s) apply on next start)` : ''}, integrity ok` };
  } catch (error) {
    return { id: 'db', status: 'fail', detail: `${file} cannot be opened: ${(error as Error).message}`, fix: 'Check the file and its permissions, or pass another path with --db.' };
  } finally {
    db?.close();
  }
}
