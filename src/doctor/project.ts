/** The adapter, the repository clone and the database (the roadmap is the roadmap-source provider's). */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadAdapter } from '../config/load.js';
import { inspectDbFile } from '../store/db.js';
import { commandChecks, repoChecks } from '../preflight/preflight.js';
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

    // The preflight's checks (the same words `oxi run` stops with); agent commands are the agents provider's,
    // the roadmap the roadmap-source provider's.
    results.push(...(await repoChecks(adapter)));
    results.push(...commandChecks(adapter, ctx.env as NodeJS.ProcessEnv).filter((r) => !r.id.startsWith('command:')));
    results.push(dbCheck(adapter.paths.db));
    return results;
  },
};

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
  try {
    const { version, integrity } = inspectDbFile(file);
    if (version > migrations.length)
      return { id: 'db', status: 'fail', detail: `${file} has schema ${version}, newer than this oxi knows (${migrations.length})`, fix: 'Upgrade oxi, or restore the backup taken before the upgrade (docs/runbooks.md).' };
    if (integrity !== 'ok') return { id: 'db', status: 'fail', detail: `${file} fails its integrity check: ${integrity}`, fix: `Stop oxi, then restore the backup oxi keeps (cp ${file}.backup ${file} && rm -f ${file}-wal ${file}-shm), or run oxi doctor --repair to copy what can be read into a new file (the old one is kept).` };
    const pending = migrations.length - version;
    return { id: 'db', status: 'ok', detail: `${file}: schema ${version}${pending ? ` (${pending} migration(s) apply on next start)` : ''}, integrity ok` };
  } catch (error) {
    const e = dbError(file, error);
    return { id: 'db', status: 'fail', detail: e.message, fix: e.fix };
  }
}
