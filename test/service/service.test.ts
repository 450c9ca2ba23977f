import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAdapter } from '../../src/config/load.js';
import { parseExecStart } from '../../src/service/units.js';
import { oxi, OXI } from '../helpers/project.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-service-'));
const configPath = join(dir, 'oxi.config.json');
writeFileSync(configPath, JSON.stringify({ name: 'widgets', roadmap: 'ROADMAP.md' }));
writeFileSync(join(dir, 'ROADMAP.md'), '# r\n\n## Tier 0\n\n- **T0-1 · One**\n  _one._\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The code's defaults, written out: a unit must agree with them, not with a copy of them. */
const DEFAULT_DB = join(dir, '.oxi', 'oxi.db');

describe('oxi service', () => {
  it('systemd: ExecStart runs `oxi run` with the resolved config and the default DB path', async () => {
    const res = oxi(['service', 'systemd', '--json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    const unit = JSON.parse(res.stdout);
    const execStart = (unit.content as string).split('\n').find((l) => l.startsWith('ExecStart='))!;
    const argv = parseExecStart(execStart.slice('ExecStart='.length));
    expect(argv).toEqual(unit.argv);
    expect(argv).toEqual([process.execPath, OXI, '--config', configPath, '--db', DEFAULT_DB, 'run']);
    // The same values the loader resolves (what `oxi run` uses without flags).
    const adapter = await loadAdapter({ cwd: dir });
    expect(argv[5]).toBe(adapter.paths.db);
    expect(unit.content).toContain(`WorkingDirectory=${dir}\n`);
    expect(unit.content).toContain('RestartPreventExitStatus=3');
    expect(unit.installPath).toMatch(/\.config\/systemd\/user\/oxi-widgets\.service$/);
  });

  it('the DB a plain CLI call opens is the one the unit names', () => {
    const unit = JSON.parse(oxi(['service', 'systemd', '--json'], { cwd: dir }).stdout);
    const db = parseExecStart(unit.content.split('\n').find((l: string) => l.startsWith('ExecStart=')).slice(10))[5];
    expect(existsSync(db)).toBe(false);
    expect(oxi(['status', '--json'], { cwd: dir }).code).toBe(0); // opens (creates) the default DB
    expect(existsSync(db)).toBe(true);
  });

  it('launchd: ProgramArguments are the same argv; logs under the adapter\'s logs dir', () => {
    const res = oxi(['service', 'launchd', '--json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    const unit = JSON.parse(res.stdout);
    const args = [...(unit.content as string).matchAll(/^ {4}<string>(.*)<\/string>$/gm)].map((m) => m[1]);
    expect(args).toEqual([process.execPath, OXI, '--config', configPath, '--db', DEFAULT_DB, 'run', '--halt-exit', '0']);
    expect(unit.content).toContain(`<key>StandardErrorPath</key><string>${join(dir, '.oxi', 'logs', 'oxi.err.log')}</string>`);
    expect(unit.content).toContain(`<key>WorkingDirectory</key><string>${dirname(configPath)}</string>`);
  });

  it('--config and --db given on the command line are what the unit runs with; --out writes the file', () => {
    const other = join(dir, 'elsewhere.db');
    const out = join(dir, 'unit.service');
    const res = oxi(['--config', configPath, '--db', other, 'service', 'systemd', '--out', out], { cwd: tmpdir() });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`wrote ${out}`);
    expect(existsSync(out)).toBe(true);
    const unit = JSON.parse(oxi(['--config', configPath, '--db', other, 'service', 'systemd', '--json'], { cwd: tmpdir() }).stdout);
    expect(unit.argv.slice(2)).toEqual(['--config', configPath, '--db', other, 'run']);
  });

  it('launchd does not restart a halt: the plist runs with --halt-exit 0 and restarts only on a failure exit', () => {
    const unit = JSON.parse(oxi(['service', 'launchd', '--json'], { cwd: dir }).stdout);
    expect(unit.argv.slice(-3)).toEqual(['run', '--halt-exit', '0']);
    expect(unit.content).toContain('<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>');
    // A bad code is refused before anything starts.
    const bad = oxi(['run', '--halt-exit', 'x'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--halt-exit: expected an exit code from 0 to 255, got "x"');
  });

  it('--out prints next steps naming the file it wrote, copied to where the manager looks', () => {
    for (const kind of ['systemd', 'launchd']) {
      const out = join(dir, `my unit.${kind}`);
      const res = oxi(['service', kind, '--out', out], { cwd: dir });
      expect(res.code, res.stderr).toBe(0);
      const unit = JSON.parse(oxi(['service', kind, '--json'], { cwd: dir }).stdout);
      expect(res.stdout).toContain(`wrote ${out}`);
      expect(res.stdout).toContain(`cp '${out}' ${unit.installPath}`);
      expect(res.stdout).toContain(kind === 'systemd' ? 'systemctl --user enable --now oxi-widgets' : `launchctl bootstrap gui/$(id -u) ${unit.installPath}`);
    }
  });

  it('an unknown service manager is a usage error', () => {
    const res = oxi(['service', 'upstart'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('expected one of systemd, launchd, got "upstart"');
  });
});
