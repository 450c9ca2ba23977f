/**
 * Secrets by phase: a secret named in workspace.setup.env.allow reaches the setup and nothing else. The setup
 * uses it (writes it into its cache directory, leaves a process holding it in its environment); then a hostile
 * worker hunts for it in its environment, every /proc/<pid>/environ and cmdline, its workspace and the ones
 * beside it, its HOME, /tmp, the engine's state dir and the cache directory. It must find nothing, and the
 * secret must reach no PR, commit, database row or log.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostileBed, leaked, type HostileBed } from '../helpers/hostile-bed.js';

let bed: HostileBed | undefined;
afterEach(async () => {
  await bed?.cleanup();
  bed = undefined;
});

/** The setup: proves it got the secret (into its cache), marks the workspace, and leaves a process holding the secret. */
const SETUP_SCRIPT = [
  "const { writeFileSync } = require('node:fs');",
  "const { dirname, join } = require('node:path');",
  "const { spawn } = require('node:child_process');",
  'const secret = process.env.OXI_SETUP_SECRET;',
  "if (!secret) { console.error('error: OXI_SETUP_SECRET is not set'); process.exit(1); }",
  "writeFileSync(join(dirname(process.env.npm_config_cache), 'registry-token'), secret + '\\n');",
  "writeFileSync('setup-ran.txt', 'the setup ran here\\n');",
  "spawn('sleep', ['300'], { detached: true, stdio: 'ignore', env: process.env }).unref();",
  "console.log('setup done');",
].join('\n');

/** Pids of processes whose environment holds `value`. */
function holders(value: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/environ`, 'latin1').includes(value)) pids.push(Number(p));
    } catch {
      /* gone, or not ours */
    }
  }
  return pids;
}

function cacheFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk(join(d, e.name)) : out.push(join(d, e.name)));
  };
  if (existsSync(root)) walk(root);
  return out;
}

describe('hostile agent: the setup\'s secret', { timeout: 480_000 }, () => {
  it('reaches the setup, and nothing the worker, the checks or the records can reach', async () => {
    bed = hostileBed({
      items: [{ id: 'T0-241', attack: 'setup-secret' }],
      config: (c) => {
        c.workspace = { setup: { command: [process.execPath, '-e', SETUP_SCRIPT], timeoutMs: 60_000, env: { allow: ['PATH', 'HOME', 'LANG', 'OXI_SETUP_SECRET'] } } };
      },
    });
    const secret = bed.secrets.OXI_SETUP_SECRET;
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    const report = bed.reports('T0-241').find((r) => r.loot !== undefined);
    // The setup got the secret (it wrote it into its cache directory) and ran in the worker's workspace.
    const tokenFile = cacheFiles(join(bed.stateDir, 'cache')).find((f) => f.endsWith('registry-token'));
    expect(tokenFile && readFileSync(tokenFile, 'utf8'), run.output).toContain(secret);
    expect(report, JSON.stringify(bed.reports('T0-241'))).toMatchObject({ setupRan: 'true', loot: 0 });
    // The hunt read real files (its workspace at least), so "found nothing" means something.
    expect(Number(report!.filesRead)).toBeGreaterThan(5);
    const found = leaked(bed, bed.haystack(run.output));
    expect(found, `found at ${JSON.stringify(bed.whereLeaked(found))}; the worker reported ${JSON.stringify(bed.reports('T0-241'))}`).toEqual([]);
    expect(bed.task('T0-241')).toMatchObject({ status: 'merged' });
    // The process the setup left behind ended with its sandbox: nothing on the machine holds the secret now.
    expect(holders(secret)).toEqual([]);
  });
});
