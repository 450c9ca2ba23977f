/**
 * What a CLI command loads: `oxi --version` and `oxi --help` import commander and nothing else from
 * node_modules, and `oxi status --json` none of the engine's heavy packages (each command's implementation
 * is loaded when it runs). The time this saves is a bench figure (`cli`), never asserted here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleProject } from '../helpers/project.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOOK = join(ROOT, 'test', 'fixtures', 'loaded-modules.mjs');

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Runs `oxi args` with the module recorder; its stdout and the npm packages it loaded. */
function loaded(args: string[], cwd = ROOT): { stdout: string; packages: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'oxi-startup-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'modules.txt');
  const stdout = execFileSync(process.execPath, ['--import', HOOK, join(ROOT, 'bin', 'oxi.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, OXI_LOADED_MODULES: file, NO_COLOR: '1' },
    timeout: 120_000,
  });
  const packages = new Set<string>();
  for (const url of readFileSync(file, 'utf8').split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) packages.add(m[1]);
  }
  return { stdout, packages: [...packages].sort() };
}

describe('CLI startup', () => {
  it('--version and --help load commander and no other package', () => {
    const version = loaded(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(version.packages).toEqual(['commander']);
    const help = loaded(['--help']);
    expect(help.stdout).toContain('status [options]');
    expect(help.packages).toEqual(['commander']);
  });

  it('status --json loads no engine, forge, SSH, subprocess, prompt or dashboard package, and still reports the config commit', () => {
    const p = sampleProject({ tasks: 1 });
    cleanups.push(p.cleanup);
    const status = loaded(['status', '--json'], p.dir);
    const data = JSON.parse(status.stdout);
    expect(data.engine.state).toBe('stopped');
    // The config's commit comes from two git queries (run without execa): the sample project committed it.
    expect(data.config.commit).toMatch(/^[0-9a-f]{40}$/);
    for (const heavy of ['execa', 'octokit', 'ssh2', 'jiti', 'p-retry', 'ws', 'elkjs', '@inquirer/prompts', '@modelcontextprotocol/sdk', '@agentclientprotocol/sdk', '@statelyai/inspect']) {
      expect(status.packages).not.toContain(heavy);
    }
    expect(status.packages).toEqual(expect.arrayContaining(['commander', 'zod', 'better-sqlite3', 'xstate']));
  });
});
