import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findConfig } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import type { Adapter } from '../../config/schema.js';
import { launchdPlist, nextSteps, systemdUnit, type UnitFile } from '../../service/units.js';
import { output, resolveAdapter, type GlobalOptions } from '../context.js';

export const SERVICE_KINDS = ['systemd', 'launchd'] as const;

/** bin/oxi.js of this installation (dist/src/cli/commands → the package root). */
export function oxiEntry(): string {
  return fileURLToPath(new URL('../../../../bin/oxi.js', import.meta.url));
}

/** The unit for the adapter in `cwd` (or --config), with the same paths `oxi run` would use. */
export async function buildUnit(global: GlobalOptions, kind: string, cwd = process.cwd()): Promise<UnitFile & { adapter: Adapter }> {
  if (!(SERVICE_KINDS as readonly string[]).includes(kind))
    throw new UsageError(`oxi service: expected one of ${SERVICE_KINDS.join(', ')}, got "${kind}".`, { fix: 'e.g. oxi service systemd' });
  const configPath = global.config ? resolve(cwd, global.config) : findConfig(cwd);
  const adapter = await resolveAdapter(global, cwd);
  const input = { adapter, configPath: configPath!, node: process.execPath, oxiBin: oxiEntry(), path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
  return { ...(kind === 'systemd' ? systemdUnit(input) : launchdPlist(input)), adapter };
}

export async function serviceCommand(global: GlobalOptions & { write?: boolean; out?: string }, kind: string): Promise<void> {
  const { adapter, ...built } = await buildUnit(global, kind);
  const target = global.out ? resolve(global.out) : global.write ? built.installPath : undefined;
  if (target) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, built.content);
  }
  // Next steps name the file actually written (--out puts it elsewhere than where the manager looks).
  const unit = target ? { ...built, next: nextSteps(built, target, adapter) } : built;
  output(global, { ...unit, written: target ?? null }, () =>
    target
      ? [`wrote ${target}`, 'then:', ...unit.next.map((c) => `  ${c}`)].join('\n')
      : `${unit.content}\n# save as ${unit.installPath} (or run with --write), then:\n${unit.next.map((c) => `#   ${c}`).join('\n')}`,
  );
}
