/**
 * The wizard driven in a real pseudo-terminal: tmux runs `oxi init`, the test types like a
 * user (including a wrong answer that must be re-asked) and reads the screen.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAdapter } from '../../src/config/load.js';
import { OXI, waitFor } from '../helpers/project.js';

const parent = mkdtempSync(join(tmpdir(), 'oxi-wizard-'));
const socket = join(parent, 'tmux.sock');
const dir = join(parent, 'shop');
execFileSync('git', ['init', '-q', '-b', 'main', dir]);
// A lockfile: the wizard suggests the setup that installs it.
writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}\n');

const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', 'w');
const keys = (...k: string[]) => tmux('send-keys', '-t', 'w', ...k);
/** Types text literally (no key-name lookup), then Enter. */
const type = (text: string) => {
  keys('-l', text);
  keys('Enter');
};
const waitScreen = (text: string) => waitFor(`"${text}" on the screen`, () => screen().includes(text), 30_000, 50).catch((e) => {
  throw new Error(`${(e as Error).message}; the screen was:\n${screen()}`);
});

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
  rmSync(parent, { recursive: true, force: true });
});

describe('oxi init wizard in a terminal', () => {
  it('asks the nine questions, re-asks a bad answer, writes a config that loads', async () => {
    // The exit code is written by a wrapping shell: tmux's own pane_dead_status is not reported on every build.
    const exitFile = join(parent, 'exit-code');
    tmux('new-session', '-d', '-s', 'w', '-x', '160', '-y', '50', '-e', 'NO_COLOR=1', '--', '/bin/sh', '-c', '"$0" "$1" init "$2"; echo $? > "$3"', process.execPath, OXI, dir, exitFile);
    tmux('set-option', '-t', 'w', 'remain-on-exit', 'on');

    await waitScreen('1/9 Project name');
    expect(screen()).toContain('(shop)'); // the directory name is suggested
    type(' Bad Name');
    await waitScreen('expected a project name of lowercase letters');
    keys('C-u');
    type('shop');
    await waitScreen('2/9 Repository on GitHub');
    type('acme/shop');
    await waitScreen('Main branch');
    type('');
    await waitScreen('3/9 Branch prefix');
    keys('C-u');
    type('bot/');
    await waitScreen('4/9 Roadmap file');
    type('');
    await waitScreen('per task');
    type('3');
    await waitScreen('per day, hard');
    type('40');
    await waitScreen('per day, soft');
    type('60'); // over the hard cap: re-asked
    await waitScreen('expected at most the hard cap ($40)');
    keys('C-u');
    type('10');
    await waitScreen('6/9 Agent plan tier');
    keys('Up');
    keys('Up'); // from the suggested "other" to "max"
    await waitScreen('❯ max');
    keys('Enter');
    await waitScreen('Agents at once across all hosts');
    type('');
    await waitScreen('7/9 Hosts');
    type('');
    await waitScreen('planner');
    keys('Enter'); // claude
    await waitScreen('worker');
    keys('Down');
    keys('Enter'); // codex
    await waitScreen('critic');
    keys('Enter');
    await waitScreen('9/9 Setup command');
    expect(screen()).toContain('suggested from package-lock.json');
    type('');
    await waitScreen('Write oxi.config.ts?');
    type('y');
    await waitScreen('ok: oxi.config.ts loads and the roadmap parses');
    const code = await waitFor('the wizard to exit', () => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim(), 10_000, 50);
    expect(code).toBe('0');

    const adapter = await loadAdapter({ cwd: dir });
    expect(adapter.name).toBe('shop');
    expect(adapter.repo.forge).toEqual({ kind: 'github', owner: 'acme', name: 'shop', tokenEnv: 'GITHUB_TOKEN' });
    expect(adapter.branches.prefix).toBe('bot/');
    expect(adapter.budget).toEqual({ perTaskUsd: 3, dailySoftUsd: 10, dailyHardUsd: 40 });
    expect(adapter.planTier).toEqual({ name: 'max', maxWorkers: 4 });
    expect(adapter.hosts).toEqual([{ name: 'local', kind: 'local', maxWorkers: 2 }]);
    expect([adapter.agents.planner.backend, adapter.agents.worker.backend, adapter.agents.critic.backend]).toEqual(['claude', 'codex', 'claude']);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('.oxi/');
    expect(adapter.workspace.setup).toMatchObject({ command: ['npm', 'ci'], cacheKey: ['package-lock.json'] });
  });
});
