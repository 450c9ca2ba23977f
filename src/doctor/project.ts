/** The adapter, the roadmap, the repository clone and the database. */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadAdapter } from '../config/load.js';
import { parseRoadmap } from '../roadmap/parse.js';
import { migrations } from '../store/migrations.js';
import { dbError } from '../store/db-errors.js';
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

    // Roadmap
    if (!existsSync(adapter.roadmap)) {
      results.push({ id: 'roadmap', status: 'fail', detail: `${adapter.roadmap} does not exist`, fix: 'Create it (oxi init writes a starter), or set `roadmap` in the adapter.' });
    } else {
      const parsed = parseRoadmap(readFileSync(adapter.roadmap, 'utf8'));
      const errors = parsed.problems.filter((p) => p.severity === 'error');
      if (errors.length)
        results.push({ id: 'roadmap', status: 'fail', detail: `${adapter.roadmap}: ${errors.map((p) => `line ${p.line}: ${p.message}`).join('; ')}`, fix: 'Fix those lines; `oxi roadmap` shows what parses.' });
      else if (!parsed.items.length)
        results.push({ id: 'roadmap', status: 'warn', detail: `${adapter.roadmap} has no items yet`, fix: 'Add items: **T0-1 · Title** then an _italic description_ under a `## Tier 0` heading.' });
      else results.push({ id: 'roadmap', status: 'ok', detail: `${adapter.roadmap}: ${parsed.items.length} items${parsed.problems.length ? `, ${parsed.problems.length} warning(s)` : ''}` });
    }

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
    if (integrity !== 'ok') return { id: 'db', status: 'fail', detail: `${file} fails its integrity check: ${integrity}`, fix: `Stop oxi, then restore the backup oxi keeps (cp ${file}.backup ${file} && rm -f ${file}-wal ${file}-shm), or run oxi doctor --repair to copy what can be read into a new file (the old one is kept).` };
    const pending = migrations.length - version;
    return { id: 'db', status: 'ok', detail: `${file}: schema ${version}${pending ? ` (${pending} migration(s) apply on next start)` : ''}, integrity ok` };
  } catch (error) {
    const e = dbError(file, error);
    return { id: 'db', status: 'fail', detail: e.message, fix: e.fix };
  } finally {
    db?.close();
  }
}
